(* T6 for dense networks needs the choice to be a function of the base
   neuron and the pre-activation (THEORY.md section 8.1, "Open" (1); issue
   18, item 2): with a value chosen per copy, AD fails even for a dense
   network.  One dense relu neuron relu(a x + b) (a = parameter 0,
   b = parameter 1), the batch x = 1, 1 (two equal inputs), the loss
   z_0 - z_1: L(a, b) = 0 is differentiable with gradient 0, both copies sit
   on the kink 0, and the per-copy choice D = (1, 0) gives AD_b = 1.  Two
   copies with equal input rows have equal pre-activations, so
   T6_dense_every_choice's condition on D is exactly what excludes this. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output Batch T6 T6Boundary Dense.
Import ListNotations.
Open Scope R_scope.

Definition dfail_base : network :=
  mk_net 2 (fun _ => 0) [(EAdd (EMul (EParam 0) (EInput 0)) (EParam 1), relu)] (EConst 0).

Definition dfail_xs : nat -> nat -> R := fun _ _ => 1.

Definition dfail_zeta : vec := fun i => if Nat.eq_dec i 0 then 1 else -1.

Definition dfail_net : network := with_out (batch_neurons dfail_base 2 dfail_xs) (lin_out dfail_zeta 2).

(* the choice 1 at copy 0 and 0 at copy 1 *)
Definition dfail_D : nat -> R := fun c => if Nat.eq_dec c 0 then 1 else 0.

Lemma dfail_base_wf : wf_neurons dfail_base.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split; [intros j Hj; compute in Hj; tauto | intros p Hp; compute in Hp; simpl; lia].
Qed.

Lemma dfail_bias : batch_bias dfail_base 2 dfail_xs.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 1%nat; intros i Hi; exists (EMul (EParam 0) (EInput 0)); repeat split.
  - simpl; lia.
  - unfold n_size; simpl; lia.
  - intros j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros Ho; simpl in Ho; lia.
  - intros w z; simpl; ring.
Qed.

Lemma dfail_dense : kinked_dense dfail_base.
Proof.
  intros k Hk _; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split.
  - simpl; split; [left; split; [exact I | intros p Hp; exact Hp] | exact I].
  - intros p _ j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
Qed.

Lemma dfail_net_wf : wf dfail_net.
Proof.
  apply wf_with_out; [apply batch_wf, dfail_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma dfail_size : n_size dfail_net = 2%nat.
Proof. reflexivity. Qed.

Lemma dfail_sigma (i : nat) : (i < 2)%nat -> sigma dfail_net i = relu.
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma dfail_tau (i : nat) : (i < 2)%nat -> tau dfail_net i = EAdd (EMul (EParam 0) (EConst 1)) (EParam 1).
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma dfail_preact (v : vec) (i : nat) : (i < 2)%nat -> preact dfail_net v i = v 0%nat + v 1%nat.
Proof. intros Hi; unfold preact; rewrite dfail_tau by exact Hi; simpl; ring. Qed.

Lemma dfail_eval (v : vec) : net_eval dfail_net v = 0.
Proof.
  unfold net_eval; change (n_out dfail_net) with (lin_out dfail_zeta 2); rewrite eval_lin_out, !dot_S, dot_0.
  rewrite !zvec_lt by (rewrite dfail_size; lia); unfold post.
  rewrite !dfail_preact, !dfail_sigma by lia; unfold dfail_zeta; simpl; ring.
Qed.

Lemma dfail_is_kink (c : nat) : (c < 2)%nat -> is_kink (sigma dfail_net c) (preact dfail_net vzero c).
Proof.
  intros Hc; rewrite dfail_sigma, dfail_preact by exact Hc; unfold vzero.
  apply relu_is_kink; ring.
Qed.

Lemma dfail_ad (D : nat -> R) (v : vec) :
  ad dfail_net D v 1 = dchoice dfail_net D v 0 - dchoice dfail_net D v 1.
Proof.
  assert (Hz : forall k, (k < 2)%nat -> zbar dfail_net D v k = dfail_zeta k).
  { intros k Hk; rewrite zbar_eq, dfail_size.
    change (n_out dfail_net) with (lin_out dfail_zeta 2).
    rewrite eval_dneuron_lin_out by exact Hk.
    rewrite sum_list_map_zero; [ring|]; intros j Hj; apply in_seq in Hj.
    rewrite dneuron_not_occurs; [ring|].
    rewrite dfail_tau by lia; simpl; tauto. }
  rewrite ad_eq, dfail_size; change (n_out dfail_net) with (lin_out dfail_zeta 2).
  rewrite eval_dparam_lin_out; unfold sum_list; simpl.
  rewrite !ybar_eq, !Hz by (rewrite ?dfail_size; lia).
  unfold dfail_zeta; simpl; ring.
Qed.

(* the dense batched network relu(a x + b), x = 1, 1, loss z_0 - z_1: L = 0
   (differentiable, gradient 0), both copies on the kink with the same
   pre-activation, and AD with the per-copy choice D = (1, 0) gives 1 for b *)
Theorem T6_dense_every_choice_fails :
  wf dfail_net /\ batch_bias dfail_base 2 dfail_xs /\ kinked_dense dfail_base /\
  (forall v, net_eval dfail_net v = 0) /\
  differentiable_at 2 (net_eval dfail_net) vzero (fun _ => 0) /\
  (forall c, (c < 2)%nat -> is_kink (sigma dfail_net c) (preact dfail_net vzero c)) /\
  preact dfail_net vzero 0 = preact dfail_net vzero 1 /\
  ad dfail_net dfail_D vzero 1 = 1.
Proof.
  split; [exact dfail_net_wf|]; split; [exact dfail_bias|]; split; [exact dfail_dense|].
  split; [exact dfail_eval|]; split; [|split; [exact dfail_is_kink|split]].
  - apply (differentiable_at_locally_affine 2 _ vzero _ 1); [lra|]; intros h _ _.
    rewrite !dfail_eval, !dot_S, dot_0; ring.
  - rewrite !dfail_preact by lia; reflexivity.
  - rewrite dfail_ad, !dchoice_kink by (apply dfail_is_kink; lia); unfold dfail_D; simpl; ring.
Qed.
