(* THEORY.md section 5, T5(a): without bias parameters AD can be wrong where
   the network is differentiable.  The network T5a of AD.v (input x = 1,
   z_0 = a x identity, y_1 = v_1 z_0, y_2 = v_2 z_0, relu on both,
   f = z_1 - z_2) is Frechet differentiable at (a, v_1, v_2) = (0, 1, -1)
   with gradient (1, 0, 0), while AD with relu'(0) = 0 gives (0, 0, 0).
   There NS holds (neuron 1 is a kink neuron with adjoint 1): NS does not
   imply non-differentiability without the bias hypothesis. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * f in closed form *)

Lemma T5a_post_0 (w : vec) : post T5a w 0 = w 0%nat * 1.
Proof. unfold post; rewrite T5a_sigma0, act_id_eval; T5a_simpl; reflexivity. Qed.

Lemma T5a_preact_1 (w : vec) : preact T5a w 1 = w 1%nat * (w 0%nat * 1).
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a w 0).
  rewrite T5a_post_0; reflexivity.
Qed.

Lemma T5a_preact_2 (w : vec) : preact T5a w 2 = w 2%nat * (w 0%nat * 1).
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a w 0).
  rewrite T5a_post_0; reflexivity.
Qed.

Lemma T5a_eval (w : vec) :
  net_eval T5a w = Rmax 0 (w 1%nat * w 0%nat) - Rmax 0 (w 2%nat * w 0%nat).
Proof.
  T5a_simpl; rewrite !zvals_lt by lia; unfold post.
  rewrite T5a_preact_1, T5a_preact_2, T5a_sigma1, T5a_sigma2, !relu_eval.
  rewrite !Rmult_1_r; ring.
Qed.

(** * Differentiability at (0, 1, -1) *)

Lemma T5a_local (h0 h1 h2 : R) :
  Rabs h1 < 1 -> Rabs h2 < 1 ->
  Rmax 0 ((1 + h1) * h0) - Rmax 0 ((-1 + h2) * h0) - h0 = h1 * h0 \/
  Rmax 0 ((1 + h1) * h0) - Rmax 0 ((-1 + h2) * h0) - h0 = - (h2 * h0).
Proof.
  intros H1 H2; apply Rabs_def2 in H1; apply Rabs_def2 in H2.
  unfold Rmax; destruct (Rle_dec 0 h0).
  - left; repeat destruct Rle_dec; nra.
  - right; repeat destruct Rle_dec; nra.
Qed.

Theorem T5a_differentiable : differentiable_at 3 (net_eval T5a) T5a_w0 (unit_vec 0).
Proof.
  intros eps Heps; exists (Rmin (1/2) eps); split; [apply Rmin_glb_lt; lra|].
  intros h Hs Hn.
  generalize (Rmin_l (1/2) eps) (Rmin_r (1/2) eps); intros Hm1 Hm2.
  assert (H0 : Rabs (h 0%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (H1 : Rabs (h 1%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (H2 : Rabs (h 2%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (Hnn := norm_max_nonneg 3 h).
  rewrite dot_comm, dot_unit_vec_r by lia.
  rewrite !T5a_eval; unfold vadd, T5a_w0.
  replace (0 + h 0%nat) with (h 0%nat) by ring.
  replace (Rmax 0 (1 * 0) - Rmax 0 (-1 * 0)) with 0
    by (rewrite !Rmult_0_r; unfold Rmax; repeat destruct Rle_dec; lra).
  rewrite Rminus_0_r.
  destruct (T5a_local (h 0%nat) (h 1%nat) (h 2%nat)) as [E|E]; try lra; rewrite E.
  - rewrite Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; lra.
  - rewrite Rabs_Ropp, Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; lra.
Qed.

(** * AD is wrong there, and NS holds *)

Theorem T5a_ad_wrong :
  differentiable_at 3 (net_eval T5a) T5a_w0 (unit_vec 0) /\
  ad T5a T5a_D T5a_w0 0%nat = 0 /\ unit_vec 0%nat 0%nat = 1.
Proof.
  split; [exact T5a_differentiable|]. split; [apply T5a_ad_zero|].
  unfold unit_vec; destruct (Nat.eq_dec 0 0); [reflexivity | congruence].
Qed.

Lemma T5a_kink_1 : In 1%nat (kink_neurons T5a T5a_w0).
Proof.
  apply kink_neurons_spec; split; [unfold n_size; simpl; lia|].
  rewrite T5a_sigma1, relu_is_kink, T5a_preact_1; unfold T5a_w0; ring.
Qed.

Lemma T5a_zbar_1 : zbar T5a T5a_D T5a_w0 1 = 1.
Proof.
  rewrite zbar_eq; unfold n_size; simpl.
  rewrite (ybar_eq T5a T5a_D T5a_w0 2) by (unfold n_size; simpl; lia).
  unfold sum_list; simpl; ring.
Qed.

Theorem T5a_NS : NS T5a T5a_D T5a_w0.
Proof. exists 1%nat; split; [exact T5a_kink_1 | rewrite T5a_zbar_1; lra]. Qed.
