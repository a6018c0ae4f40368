(* The hypotheses of T6_dense_every_choice (THEORY.md section 8.1; issue 18,
   item 4) are met by a concrete network with a point of
   non-differentiability and a differentiable point with kinked copies: the
   dense relu neuron relu(a x + b) (a = parameter 0, b = parameter 1),
   batch x = 1, 1, 2, loss z_0 - z_1 + z_2, so L(a, b) = relu(2a + b).  L is
   not differentiable at (0, 0); at (1, -1) copies 0 and 1 are on the kink
   and L is differentiable with gradient (2, 1). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output Batch T6 T6Boundary Dense
  T6DenseFails.
Import ListNotations.
Open Scope R_scope.

Definition nvd_xs : nat -> nat -> R := fun i _ => if Nat.eq_dec i 2 then 2 else 1.
Definition nvd_zeta : vec := fun i => if Nat.eq_dec i 1 then -1 else 1.
Definition nvd_net : network := with_out (batch_neurons dfail_base 3 nvd_xs) (lin_out nvd_zeta 3).
(* the point (1, -1) *)
Definition nvd_w : vec := fun i => if Nat.eq_dec i 0 then 1 else -1.

Lemma nvd_bias : batch_bias dfail_base 3 nvd_xs.
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

Lemma nvd_net_wf : wf nvd_net.
Proof.
  apply wf_with_out; [apply batch_wf, dfail_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma nvd_size : n_size nvd_net = 3%nat.
Proof. reflexivity. Qed.

Lemma nvd_sigma (i : nat) : (i < 3)%nat -> sigma nvd_net i = relu.
Proof. intros Hi; destruct i as [|[|[|i]]]; [reflexivity | reflexivity | reflexivity | lia]. Qed.

Lemma nvd_preact (v : vec) (i : nat) : (i < 3)%nat -> preact nvd_net v i = v 0%nat * nvd_xs i 0%nat + v 1%nat.
Proof. intros Hi; destruct i as [|[|[|i]]]; [| | |lia]; unfold preact; simpl; ring. Qed.

Lemma nvd_eval (v : vec) : net_eval nvd_net v = Rmax 0 (2 * v 0%nat + v 1%nat).
Proof.
  unfold net_eval; change (n_out nvd_net) with (lin_out nvd_zeta 3); rewrite eval_lin_out, !dot_S, dot_0.
  rewrite !zvec_lt by (rewrite nvd_size; lia); unfold post.
  rewrite !nvd_preact, !nvd_sigma by lia; rewrite !relu_eval; unfold nvd_zeta, nvd_xs; simpl.
  replace (v 0%nat * 2 + v 1%nat) with (2 * v 0%nat + v 1%nat) by ring; ring.
Qed.

Lemma nvd_not_differentiable : ~ differentiable 2 (net_eval nvd_net) vzero.
Proof.
  intros [g Hd]; destruct (Hd (1/4) ltac:(lra)) as [d [Hd0 K]].
  assert (Hh : forall s, Rabs s < d -> Rabs (Rmax 0 s - g 1%nat * s) <= 1/4 * Rabs s).
  { intros s Hs.
    set (h := fun i : nat => if Nat.eq_dec i 1 then s else 0).
    assert (Hsup : supported 2 h) by (intros i Hi; unfold h; destruct (Nat.eq_dec i 1); [lia | reflexivity]).
    assert (Hn : norm_max 2 h = Rabs s).
    { rewrite !norm_max_S, norm_max_0; unfold h; simpl; rewrite Rabs_R0.
      rewrite (Rmax_right 0 0) by lra; apply Rmax_right, Rabs_pos. }
    specialize (K h Hsup ltac:(rewrite Hn; exact Hs)); rewrite Hn in K.
    rewrite !nvd_eval, !dot_S, dot_0 in K; unfold vadd, vzero, h in K; simpl in K.
    replace (Rmax 0 (2 * (0 + 0) + (0 + s)) - Rmax 0 (2 * 0 + 0) - (0 + g 0%nat * 0 + g 1%nat * s))
      with (Rmax 0 s - g 1%nat * s) in K; [exact K|].
    replace (2 * (0 + 0) + (0 + s)) with s by ring; replace (2 * 0 + 0) with 0 by ring.
    rewrite (Rmax_left 0 0) by lra; ring. }
  assert (H1 := Hh (d / 2) ltac:(rewrite Rabs_pos_eq; lra)).
  assert (H2 := Hh (- (d / 2)) ltac:(rewrite Rabs_Ropp, Rabs_pos_eq; lra)).
  rewrite Rmax_right in H1 by lra; rewrite Rmax_left in H2 by lra.
  rewrite Rabs_Ropp, (Rabs_pos_eq (d / 2)) in H2 by lra; rewrite (Rabs_pos_eq (d / 2)) in H1 by lra.
  replace (d / 2 - g 1%nat * (d / 2)) with ((1 - g 1%nat) * (d / 2)) in H1 by ring.
  replace (0 - g 1%nat * - (d / 2)) with (g 1%nat * (d / 2)) in H2 by ring.
  rewrite Rabs_mult, (Rabs_pos_eq (d / 2)) in H1, H2 by lra.
  assert (Ha : Rabs (1 - g 1%nat) <= 1/4) by nra.
  assert (Hb : Rabs (g 1%nat) <= 1/4) by nra.
  revert Ha Hb; unfold Rabs; repeat destruct Rcase_abs; intros; lra.
Qed.

Lemma nvd_is_kink (c : nat) : (c < 2)%nat -> is_kink (sigma nvd_net c) (preact nvd_net nvd_w c).
Proof.
  intros Hc; rewrite nvd_sigma, nvd_preact by lia; apply relu_is_kink.
  unfold nvd_w, nvd_xs; destruct c as [|[|c]]; [| |lia]; simpl; ring.
Qed.

Lemma nvd_differentiable : differentiable_at 2 (net_eval nvd_net) nvd_w (fun i => if Nat.eq_dec i 0 then 2 else 1).
Proof.
  apply (differentiable_at_locally_affine 2 _ nvd_w _ (1/4)); [lra|]; intros h _ Hn.
  pose proof (norm_max_coord 2 h 0 ltac:(lia)); pose proof (norm_max_coord 2 h 1 ltac:(lia)).
  rewrite !nvd_eval, !dot_S, dot_0; unfold vadd, nvd_w; simpl.
  revert H H0; unfold Rabs; repeat destruct Rcase_abs; intros;
    rewrite !Rmax_right by lra; ring.
Qed.

(* hypotheses of T6_dense_every_choice met, a point where L is not
   differentiable, and a differentiable point with two kinked copies *)
Theorem T6_dense_nonvacuous :
  wf nvd_net /\ wf_neurons dfail_base /\ batch_bias dfail_base 3 nvd_xs /\ kinked_dense dfail_base /\
  (forall v, net_eval nvd_net v = Rmax 0 (2 * v 0%nat + v 1%nat)) /\
  ~ differentiable 2 (net_eval nvd_net) vzero /\
  differentiable_at 2 (net_eval nvd_net) nvd_w (fun i => if Nat.eq_dec i 0 then 2 else 1) /\
  (forall c, (c < 2)%nat -> is_kink (sigma nvd_net c) (preact nvd_net nvd_w c)).
Proof.
  split; [exact nvd_net_wf|]; split; [exact dfail_base_wf|]; split; [exact nvd_bias|].
  split; [exact dfail_dense|]; split; [exact nvd_eval|]; split; [exact nvd_not_differentiable|].
  split; [exact nvd_differentiable | exact nvd_is_kink].
Qed.
