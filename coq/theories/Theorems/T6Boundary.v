(* Where PyTorch's choice stands (THEORY.md section 8.1, "Where PyTorch's
   choice stands"; issue 18, item 2): the two ways a batched bias network in
   practice feeds an input into a kinked neuron with a fixed coefficient, each
   refuting T6 for PyTorch's hardtanh'(-1) = hardtanh'(1) = 0.
   - Identity skip: h = hardtanh(w x1 + b + x2) (parameters w = 0, b = 1),
     batch (x1, x2) = (1, -1), (1, 1), sum loss.  L(w, b) = w + b near 0, so
     L is differentiable at 0 with gradient (1, 1); both copies sit on a kink
     (at -1 and at 1) and AD gives (0, 0).  Both copies have the same
     coefficients in every parameter (the same input row x1 = 1) but
     different pre-activations: the skip term x2 separates them, and no
     parameter direction does.  The network is a batched bias network: T6
     applies to it only for theta-uniform choices.
   - Frozen weight: nn.Linear(1, 1) with weight frozen at 1 (a constant
     coefficient, not a parameter) and trainable bias b, then hardtanh, batch
     x = -1, 1, sum loss: L(b) = hardtanh(b - 1) + hardtanh(b + 1) = b near
     0, L'(0) = 1, AD 0.  (With the weight trainable the network is dense and
     T6DenseCorrect.v applies: no AD error at any differentiable point.) *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output Batch T6.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* one hardtanh neuron h = hardtanh(w x1 + b + x2), w = parameter 0, b = parameter 1 *)
Definition skip_base : network :=
  mk_net 2 (fun _ => 0) [(EAdd (EAdd (EMul (EParam 0) (EInput 0)) (EParam 1)) (EInput 1), hardtanh)] (EConst 0).

(* the batch (x1, x2) = (1, -1), (1, 1) *)
Definition skip_xs : nat -> nat -> R :=
  fun i j => if Nat.eq_dec j 0 then 1 else if Nat.eq_dec i 0 then -1 else 1.

(* sum loss over the two copies *)
Definition skip_net : network := with_out (batch_neurons skip_base 2 skip_xs) (lin_out (fun _ => 1) 2).

(* nn.Linear(1, 1) with frozen weight 1 (a constant) and bias b = parameter 0 *)
Definition frozen_base : network :=
  mk_net 1 (fun _ => 0) [(EAdd (EMul (EConst 1) (EInput 0)) (EParam 0), hardtanh)] (EConst 0).

(* the batch x = -1, 1 *)
Definition frozen_xs : nat -> nat -> R := fun i _ => if Nat.eq_dec i 0 then -1 else 1.

Definition frozen_net : network := with_out (batch_neurons frozen_base 2 frozen_xs) (lin_out (fun _ => 1) 2).

(** * hardtanh and local linearity *)

Lemma hardtanh_eval_mid (s : R) : -1 <= s <= 1 -> act_eval hardtanh s = s.
Proof. intros Hs; unfold act_eval, nbelow; simpl; unfold pl_piece; solve_dec; simpl; lra. Qed.

Lemma hardtanh_eval_low (s : R) : s <= -1 -> act_eval hardtanh s = -1.
Proof. intros Hs; unfold act_eval, nbelow; simpl; unfold pl_piece; solve_dec; simpl; lra. Qed.

Lemma hardtanh_eval_high (s : R) : 1 <= s -> act_eval hardtanh s = 1.
Proof. intros Hs; unfold act_eval, nbelow; simpl; unfold pl_piece; solve_dec; simpl; lra. Qed.

(* hardtanh(s - 1) + hardtanh(s + 1) = s on [-2, 2] *)
Lemma hardtanh_pair (s : R) : -2 <= s <= 2 ->
  act_eval hardtanh (s - 1) + act_eval hardtanh (s + 1) = s.
Proof.
  intros Hs; destruct (Rle_dec 0 s).
  - rewrite hardtanh_eval_mid, hardtanh_eval_high by lra; ring.
  - rewrite hardtanh_eval_low, hardtanh_eval_mid by lra; ring.
Qed.

(* a function that is affine near w is differentiable there *)
Lemma differentiable_at_locally_affine (W : nat) (f : vec -> R) (w g : vec) (d : R) :
  0 < d -> (forall h, supported W h -> norm_max W h < d -> f (vadd w h) - f w = dot W g h) ->
  differentiable_at W f w g.
Proof.
  intros Hd H eps Heps; exists d; split; [exact Hd|]; intros h Hs Hn.
  rewrite H by assumption; replace (dot W g h - dot W g h) with 0 by ring.
  rewrite Rabs_R0; pose proof (norm_max_nonneg W h); nra.
Qed.

(** * The identity-skip network *)

Lemma skip_base_wf : wf_neurons skip_base.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split; [intros j Hj; compute in Hj; tauto | intros p Hp; compute in Hp; simpl; lia].
Qed.

Lemma skip_bias : batch_bias skip_base 2 skip_xs.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 1%nat; intros i Hi; exists (EAdd (EMul (EParam 0) (EInput 0)) (EInput 1)); repeat split.
  - simpl; lia.
  - unfold n_size; simpl; lia.
  - intros j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros Ho; simpl in Ho; lia.
  - intros w z; simpl; ring.
Qed.

Lemma skip_net_wf : wf skip_net.
Proof.
  apply wf_with_out; [apply batch_wf, skip_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma skip_size : n_size skip_net = 2%nat.
Proof. reflexivity. Qed.

Lemma skip_sigma (i : nat) : (i < 2)%nat -> sigma skip_net i = hardtanh.
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma skip_tau (i : nat) : (i < 2)%nat ->
  tau skip_net i = EAdd (EAdd (EMul (EParam 0) (EConst 1)) (EParam 1))
                        (EConst (if Nat.eq_dec i 0 then -1 else 1)).
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma skip_preact (v : vec) (i : nat) : (i < 2)%nat ->
  preact skip_net v i = v 0%nat + v 1%nat + (if Nat.eq_dec i 0 then -1 else 1).
Proof.
  intros Hi; unfold preact; rewrite skip_tau by exact Hi; simpl; ring.
Qed.

Lemma skip_eval (v : vec) :
  net_eval skip_net v = act_eval hardtanh (v 0%nat + v 1%nat - 1) + act_eval hardtanh (v 0%nat + v 1%nat + 1).
Proof.
  unfold net_eval; change (n_out skip_net) with (lin_out (fun _ : nat => 1) 2); rewrite eval_lin_out, !dot_S, dot_0.
  rewrite !zvec_lt by (rewrite skip_size; lia); unfold post.
  rewrite !skip_preact, !skip_sigma by lia; simpl.
  replace (v 0%nat + v 1%nat + -1) with (v 0%nat + v 1%nat - 1) by ring; ring.
Qed.

(* AD: both copies have adjoint 1, and coefficient 1 in both parameters *)
Lemma skip_ad (D : nat -> R) (v : vec) (p : nat) : (p < 2)%nat ->
  ad skip_net D v p = dchoice skip_net D v 0 + dchoice skip_net D v 1.
Proof.
  intros Hp.
  assert (Hz : forall k, (k < 2)%nat -> zbar skip_net D v k = 1).
  { intros k Hk; rewrite zbar_eq, skip_size.
    change (n_out skip_net) with (lin_out (fun _ : nat => 1) 2).
    rewrite eval_dneuron_lin_out by exact Hk.
    rewrite sum_list_map_zero; [ring|]; intros j Hj; apply in_seq in Hj.
    rewrite dneuron_not_occurs; [ring|].
    rewrite skip_tau by lia; simpl; tauto. }
  rewrite ad_eq, skip_size; change (n_out skip_net) with (lin_out (fun _ : nat => 1) 2).
  rewrite eval_dparam_lin_out; unfold sum_list; simpl.
  rewrite !ybar_eq, !Hz by (rewrite ?skip_size; lia).
  destruct p as [|[|p]]; [| |lia]; unfold skip_xs; simpl; ring.
Qed.

Lemma skip_is_kink (c : nat) : (c < 2)%nat -> is_kink (sigma skip_net c) (preact skip_net vzero c).
Proof.
  intros Hc; rewrite skip_sigma, skip_preact by exact Hc; unfold vzero; apply hardtanh_is_kink.
  destruct (Nat.eq_dec c 0); [left | right]; ring.
Qed.

Lemma skip_kinked (c : nat) : In c (kink_neurons skip_net vzero) <-> (c < 2)%nat.
Proof.
  rewrite kink_neurons_spec, skip_size; split; [tauto|]; intros Hc; split; [exact Hc|].
  apply skip_is_kink, Hc.
Qed.

(* h = hardtanh(w x1 + b + x2), batch (1, -1), (1, 1), sum loss: L(w, b) =
   hardtanh(w + b - 1) + hardtanh(w + b + 1), equal to w + b near 0, so L is
   differentiable at 0 with gradient (1, 1); both copies are on a kink, both
   have coefficient 1 in w and in b (equal input rows, different
   pre-activations -1 and 1), and AD with PyTorch's hardtanh'(+-1) = 0
   returns (0, 0).  The network is a batched bias network. *)
Theorem T6_skip_counterexample :
  wf skip_net /\ batch_bias skip_base 2 skip_xs /\
  (forall v, net_eval skip_net v =
     act_eval hardtanh (v 0%nat + v 1%nat - 1) + act_eval hardtanh (v 0%nat + v 1%nat + 1)) /\
  differentiable_at 2 (net_eval skip_net) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons skip_net vzero) <-> (c < 2)%nat) /\
  (forall p, dw_coef skip_net vzero 0 p = dw_coef skip_net vzero 1 p) /\
  preact skip_net vzero 0 = -1 /\ preact skip_net vzero 1 = 1 /\
  ad skip_net (fun _ => 0) vzero 0 = 0 /\ ad skip_net (fun _ => 0) vzero 1 = 0.
Proof.
  assert (Had : forall p, (p < 2)%nat -> ad skip_net (fun _ => 0) vzero p = 0).
  { intros p Hp; rewrite skip_ad by exact Hp; rewrite !dchoice_kink by (apply skip_is_kink; lia); ring. }
  split; [exact skip_net_wf|]; split; [exact skip_bias|]; split; [exact skip_eval|].
  split; [|split; [exact skip_kinked|split; [|split; [|split; [|split]]]]].
  - apply (differentiable_at_locally_affine 2 _ vzero _ 1); [lra|]; intros h Hs Hn.
    rewrite !skip_eval; unfold vadd, vzero; rewrite !Rplus_0_l, !dot_S, dot_0.
    pose proof (norm_max_coord 2 h 0 ltac:(lia)); pose proof (norm_max_coord 2 h 1 ltac:(lia)).
    rewrite (hardtanh_pair (h 0%nat + h 1%nat)) by (revert H H0; unfold Rabs; repeat destruct Rcase_abs; intros; lra).
    rewrite (hardtanh_eval_low (0 - 1)), (hardtanh_eval_high 1) by lra; ring.
  - intros p; unfold dw_coef; rewrite !skip_tau by lia; simpl; reflexivity.
  - rewrite skip_preact by lia; unfold vzero; simpl; ring.
  - rewrite skip_preact by lia; unfold vzero; simpl; ring.
  - apply Had; lia.
  - apply Had; lia.
Qed.

(** * The frozen-weight network *)

Lemma frozen_base_wf : wf_neurons frozen_base.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split; [intros j Hj; compute in Hj; tauto | intros p Hp; compute in Hp; simpl; lia].
Qed.

Lemma frozen_bias : batch_bias frozen_base 2 frozen_xs.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 0%nat; intros i Hi; exists (EMul (EConst 1) (EInput 0)); repeat split.
  - simpl; lia.
  - unfold n_size; simpl; lia.
  - intros j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros Ho; simpl in Ho; tauto.
  - intros w z; simpl; ring.
Qed.

Lemma frozen_net_wf : wf frozen_net.
Proof.
  apply wf_with_out; [apply batch_wf, frozen_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma frozen_size : n_size frozen_net = 2%nat.
Proof. reflexivity. Qed.

Lemma frozen_sigma (i : nat) : (i < 2)%nat -> sigma frozen_net i = hardtanh.
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma frozen_tau (i : nat) : (i < 2)%nat ->
  tau frozen_net i = EAdd (EMul (EConst 1) (EConst (if Nat.eq_dec i 0 then -1 else 1))) (EParam 0).
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma frozen_preact (v : vec) (i : nat) : (i < 2)%nat ->
  preact frozen_net v i = (if Nat.eq_dec i 0 then -1 else 1) + v 0%nat.
Proof. intros Hi; unfold preact; rewrite frozen_tau by exact Hi; simpl; ring. Qed.

Lemma frozen_eval (v : vec) :
  net_eval frozen_net v = act_eval hardtanh (v 0%nat - 1) + act_eval hardtanh (v 0%nat + 1).
Proof.
  unfold net_eval; change (n_out frozen_net) with (lin_out (fun _ : nat => 1) 2); rewrite eval_lin_out, !dot_S, dot_0.
  rewrite !zvec_lt by (rewrite frozen_size; lia); unfold post.
  rewrite !frozen_preact, !frozen_sigma by lia; simpl.
  replace (-1 + v 0%nat) with (v 0%nat - 1) by ring; replace (1 + v 0%nat) with (v 0%nat + 1) by ring; ring.
Qed.

Lemma frozen_is_kink (c : nat) : (c < 2)%nat -> is_kink (sigma frozen_net c) (preact frozen_net vzero c).
Proof.
  intros Hc; rewrite frozen_sigma, frozen_preact by exact Hc; unfold vzero; apply hardtanh_is_kink.
  destruct (Nat.eq_dec c 0); [left | right]; ring.
Qed.

Lemma frozen_kinked (c : nat) : In c (kink_neurons frozen_net vzero) <-> (c < 2)%nat.
Proof.
  rewrite kink_neurons_spec, frozen_size; split; [tauto|]; intros Hc; split; [exact Hc|].
  apply frozen_is_kink, Hc.
Qed.

Lemma frozen_ad (D : nat -> R) (v : vec) :
  ad frozen_net D v 0 = dchoice frozen_net D v 0 + dchoice frozen_net D v 1.
Proof.
  assert (Hz : forall k, (k < 2)%nat -> zbar frozen_net D v k = 1).
  { intros k Hk; rewrite zbar_eq, frozen_size.
    change (n_out frozen_net) with (lin_out (fun _ : nat => 1) 2).
    rewrite eval_dneuron_lin_out by exact Hk.
    rewrite sum_list_map_zero; [ring|]; intros j Hj; apply in_seq in Hj.
    rewrite dneuron_not_occurs; [ring|].
    rewrite frozen_tau by lia; simpl; tauto. }
  rewrite ad_eq, frozen_size; change (n_out frozen_net) with (lin_out (fun _ : nat => 1) 2).
  rewrite eval_dparam_lin_out; unfold sum_list; simpl.
  rewrite !ybar_eq, !Hz by (rewrite ?frozen_size; lia).
  unfold frozen_xs; simpl; ring.
Qed.

(* nn.Linear(1, 1) with frozen weight 1, trainable bias b, hardtanh, batch
   x = -1, 1, sum loss, as a function of the trainable parameter b only:
   L(b) = hardtanh(b - 1) + hardtanh(b + 1) = b near 0, so L'(0) = 1; both
   copies are on a kink and AD with PyTorch's hardtanh'(+-1) = 0 returns 0.
   The network is a batched bias network. *)
Theorem T6_frozen_counterexample :
  wf frozen_net /\ batch_bias frozen_base 2 frozen_xs /\
  (forall v, net_eval frozen_net v = act_eval hardtanh (v 0%nat - 1) + act_eval hardtanh (v 0%nat + 1)) /\
  differentiable_at 1 (net_eval frozen_net) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons frozen_net vzero) <-> (c < 2)%nat) /\
  ad frozen_net (fun _ => 0) vzero 0 = 0.
Proof.
  split; [exact frozen_net_wf|]; split; [exact frozen_bias|]; split; [exact frozen_eval|].
  split; [|split; [exact frozen_kinked|]].
  - apply (differentiable_at_locally_affine 1 _ vzero _ 1); [lra|]; intros h Hs Hn.
    rewrite !frozen_eval; unfold vadd, vzero; rewrite !Rplus_0_l, !dot_S, dot_0.
    pose proof (norm_max_coord 1 h 0 ltac:(lia)).
    rewrite (hardtanh_pair (h 0%nat)) by (revert H; unfold Rabs; repeat destruct Rcase_abs; intros; lra).
    rewrite (hardtanh_eval_low (0 - 1)), (hardtanh_eval_high 1) by lra; ring.
  - rewrite frozen_ad, !dchoice_kink by (apply frozen_is_kink; lia); ring.
Qed.
