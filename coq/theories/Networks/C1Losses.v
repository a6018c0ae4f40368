(* Losses as C1 outputs (issue 10, item 7; C1Output.v): softmax
   cross-entropy over a list of logit neurons, with the softmax gradient, is a
   C1 output; C1 outputs are closed under sums and scalings (the loss of a
   mini-batch is the sum of the examples' losses, Batch.v).  Polynomial losses
   such as MSE are C1 outputs through C1Instance.v. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Network AD NoKinkAD SelectLocal C1Output.
Import ListNotations.
Open Scope R_scope.

(** * Sums and scalings of C1 outputs *)

Section Closure.
Variables (W N : nat).

Lemma c1_plus_diff (g1 g2 : c1_output W N) (u : vec) :
  differentiable_at (W + N) (fun u => c1_g g1 u + c1_g g2 u) u (vadd (c1_dg g1 u) (c1_dg g2 u)).
Proof. apply differentiable_at_plus; apply c1_diff. Qed.

Lemma c1_plus_cont (g1 g2 : c1_output W N) (u : vec) (i : nat) :
  continuous_at (W + N) (fun u' => vadd (c1_dg g1 u') (c1_dg g2 u') i) u.
Proof.
  apply (continuous_at_plus (W + N) (fun u' => c1_dg g1 u' i) (fun u' => c1_dg g2 u' i)); apply c1_cont.
Qed.

Definition c1_plus (g1 g2 : c1_output W N) : c1_output W N :=
  mk_c1_output W N (fun u => c1_g g1 u + c1_g g2 u) (fun u => vadd (c1_dg g1 u) (c1_dg g2 u))
    (c1_plus_diff g1 g2) (c1_plus_cont g1 g2).

Lemma c1_scal_diff (k : R) (g1 : c1_output W N) (u : vec) :
  differentiable_at (W + N) (fun u => k * c1_g g1 u) u (vscale k (c1_dg g1 u)).
Proof. apply differentiable_at_scal, c1_diff. Qed.

Lemma c1_scal_cont (k : R) (g1 : c1_output W N) (u : vec) (i : nat) :
  continuous_at (W + N) (fun u' => vscale k (c1_dg g1 u') i) u.
Proof.
  apply (continuous_at_mult (W + N) (fun _ => k) (fun u' => c1_dg g1 u' i));
    [apply continuous_at_const | apply c1_cont].
Qed.

Definition c1_scal (k : R) (g1 : c1_output W N) : c1_output W N :=
  mk_c1_output W N (fun u => k * c1_g g1 u) (fun u => vscale k (c1_dg g1 u))
    (c1_scal_diff k g1) (c1_scal_cont k g1).

End Closure.

(** * Softmax cross-entropy *)

Lemma sum_list_map_minus_mul {A : Type} (f g e : A -> R) (l : list A) :
  sum_list (map (fun a => (f a - g a) * e a) l) =
  sum_list (map (fun a => f a * e a) l) - sum_list (map (fun a => g a * e a) l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma sum_list_map_scal_l {A : Type} (k : R) (f : A -> R) (l : list A) :
  sum_list (map (fun a => k * f a) l) = k * sum_list (map f l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Section CrossEntropy.
(* logits: the outputs of the neurons in ls; y: the target weights *)
Variables (W N : nat) (ls : list nat) (y : nat -> R).
Hypothesis Hls : ls <> [].
Hypothesis Hlt : forall j, In j ls -> (j < N)%nat.

Definition ce_sum (u : vec) : R := sum_list (map (fun j => exp (u (W + j)%nat)) ls).

(* ln (sum_j e^(z_j)) - sum_j y_j z_j *)
Definition ce_g (u : vec) : R := ln (ce_sum u) - sum_list (map (fun j => y j * u (W + j)%nat) ls).

(* dg/dz_j = softmax_j - y_j, dg/dw = 0 *)
Definition ce_dg (u : vec) : vec :=
  fun i => sum_list (map (fun j => (exp (u (W + j)%nat) / ce_sum u - y j) * unit_vec (W + j) i) ls).

Lemma ce_sum_pos (u : vec) : 0 < ce_sum u.
Proof.
  unfold ce_sum; destruct ls as [|j0 l]; [congruence|]; clear Hls Hlt; simpl.
  assert (0 <= sum_list (map (fun j => exp (u (W + j)%nat)) l)).
  { induction l as [|j l IH]; unfold sum_list in *; simpl; [lra|]; pose proof (exp_pos (u (W + j)%nat)); lra. }
  pose proof (exp_pos (u (W + j0)%nat)); unfold sum_list in *; simpl in *; lra.
Qed.

Lemma coord_lt (j : nat) : In j ls -> (W + j < W + N)%nat.
Proof. intros Hj; specialize (Hlt j Hj); lia. Qed.

Lemma ce_sum_diff (u : vec) :
  differentiable_at (W + N) ce_sum u
    (fun i => sum_list (map (fun j => exp (u (W + j)%nat) * unit_vec (W + j) i) ls)).
Proof.
  apply (differentiable_at_sum_list (W + N) (fun j v => exp (v (W + j)%nat))
           (fun j => vscale (exp (u (W + j)%nat)) (unit_vec (W + j)))).
  intros j Hj; apply (differentiable_at_comp (W + N) exp (fun v => v (W + j)%nat));
    [apply derivable_pt_lim_exp | apply differentiable_at_coord, coord_lt, Hj].
Qed.

Lemma ce_g_diff (u : vec) : differentiable_at (W + N) ce_g u (ce_dg u).
Proof.
  eapply differentiable_at_grad_ext; [|apply differentiable_at_minus;
    [apply (differentiable_at_comp (W + N) ln ce_sum); [apply derivable_pt_lim_ln, ce_sum_pos | apply ce_sum_diff]
    |apply (differentiable_at_sum_list (W + N) (fun j v => y j * v (W + j)%nat)
              (fun j => vscale (y j) (unit_vec (W + j))));
     intros j Hj; apply differentiable_at_scal, differentiable_at_coord, coord_lt, Hj]].
  intros i _; unfold ce_dg, vadd, vscale; rewrite sum_list_map_minus_mul.
  rewrite <- sum_list_map_scal_l, <- sum_list_map_scal_l.
  unfold Rminus; f_equal; [apply sum_list_map_ext; intros j _; unfold Rdiv; ring|].
  rewrite sum_list_map_scal_l; ring.
Qed.

Lemma ce_sum_continuous (u : vec) : continuous_at (W + N) ce_sum u.
Proof. exact (differentiable_continuous _ _ _ _ (ce_sum_diff u)). Qed.

Lemma exp_continuity (x : R) : continuity_pt exp x.
Proof. apply derivable_continuous_pt; exists (exp x); apply derivable_pt_lim_exp. Qed.

Lemma inv_continuity (x : R) : x <> 0 -> continuity_pt Rinv x.
Proof.
  intros Hx; apply (continuity_pt_inv id x); [apply derivable_continuous_pt, derivable_pt_id | exact Hx].
Qed.

Lemma ce_dg_cont (u : vec) (i : nat) : continuous_at (W + N) (fun u' => ce_dg u' i) u.
Proof.
  unfold ce_dg; apply (sum_list_continuous_at (W + N) u ls
    (fun j u' => (exp (u' (W + j)%nat) / ce_sum u' - y j) * unit_vec (W + j) i)).
  intros j Hj.
  apply (continuous_at_mult (W + N) (fun u' => exp (u' (W + j)%nat) / ce_sum u' - y j) (fun _ => unit_vec (W + j) i));
    [|apply continuous_at_const].
  apply (continuous_at_ext _ (fun u' => exp (u' (W + j)%nat) * / ce_sum u' + - y j)); [intros; unfold Rdiv; ring|].
  apply (continuous_at_plus _ (fun u' => exp (u' (W + j)%nat) * / ce_sum u')); [|apply continuous_at_const].
  apply (continuous_at_mult _ (fun u' => exp (u' (W + j)%nat)) (fun u' => / ce_sum u')).
  - apply (continuous_at_comp _ exp (fun u' => u' (W + j)%nat));
      [apply exp_continuity | apply continuous_at_coord, coord_lt, Hj].
  - apply (continuous_at_comp _ Rinv ce_sum); [apply inv_continuity; pose proof (ce_sum_pos u); lra|].
    apply ce_sum_continuous.
Qed.

Definition ce_output : c1_output W N := mk_c1_output W N ce_g ce_dg ce_g_diff ce_dg_cont.

(* its value and gradient at (w, z) *)
Lemma ce_output_value (w z : vec) :
  c1_g ce_output (pack W w z) =
  ln (sum_list (map (fun j => exp (z j)) ls)) - sum_list (map (fun j => y j * z j) ls).
Proof.
  cbn [c1_g ce_output]; unfold ce_g, ce_sum.
  f_equal; [f_equal|]; f_equal; apply map_ext; intros j; rewrite pack_ge; reflexivity.
Qed.

Lemma ce_output_dw (w z : vec) (p : nat) : (p < W)%nat -> c1_dg ce_output (pack W w z) p = 0.
Proof.
  intros Hp; cbn [c1_dg ce_output]; unfold ce_dg; apply sum_list_map_zero; intros j _.
  unfold unit_vec; destruct (Nat.eq_dec p (W + j)); [lia | ring].
Qed.

Lemma ce_output_dz (w z : vec) (k : nat) : NoDup ls -> In k ls ->
  c1_dg ce_output (pack W w z) (W + k)%nat =
  exp (z k) / sum_list (map (fun j => exp (z j)) ls) - y k.
Proof.
  intros Hnd Hk; cbn [c1_dg ce_output]; unfold ce_dg, ce_sum.
  rewrite (sum_list_map_ext _ (fun j => (if Nat.eq_dec k j then 1 else 0) *
            (exp (pack W w z (W + j)%nat) / sum_list (map (fun j => exp (pack W w z (W + j)%nat)) ls) - y j))).
  2:{ intros j _; unfold unit_vec; destruct (Nat.eq_dec (W + k) (W + j)), (Nat.eq_dec k j); try lia; ring. }
  rewrite (sum_list_map_indicator ls k _ Hnd Hk), pack_ge; f_equal; f_equal; f_equal.
  apply map_ext; intros j; rewrite pack_ge; reflexivity.
Qed.

Lemma ce_output_dz_other (w z : vec) (k : nat) : ~ In k ls -> c1_dg ce_output (pack W w z) (W + k)%nat = 0.
Proof.
  intros Hk; cbn [c1_dg ce_output]; unfold ce_dg; apply sum_list_map_zero; intros j Hj.
  unfold unit_vec; destruct (Nat.eq_dec (W + k) (W + j)); [|ring].
  assert (k = j) by lia; subst; contradiction.
Qed.

End CrossEntropy.
