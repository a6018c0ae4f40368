(* One-sided derivatives of functions R -> R (THEORY.md section 6, "Topmost
   witness": the right and left derivatives of t -> f(w + t e_p) differ, so f
   is not differentiable; also the tightness part of T2 in section 5).
   Definitions, uniqueness, and the link with Frechet differentiability. *)
From Coq Require Import Reals Lra Lia.
From ADCorrect Require Import Vec Frechet.
Open Scope R_scope.

Definition right_deriv (u : R -> R) (x l : R) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\
    forall t, 0 < t < delta -> Rabs ((u (x + t) - u x) / t - l) < eps.

Definition left_deriv (u : R -> R) (x l : R) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\
    forall t, - delta < t < 0 -> Rabs ((u (x + t) - u x) / t - l) < eps.

Lemma close_to_both_eq l1 l2 :
  (forall eps, 0 < eps -> exists q', Rabs (q' - l1) < eps /\ Rabs (q' - l2) < eps) -> l1 = l2.
Proof.
  intros H; destruct (Req_dec l1 l2) as [|Hne]; [assumption|exfalso].
  assert (Hd : 0 < Rabs (l1 - l2) / 2) by (apply Rdiv_lt_0_compat; [apply Rabs_pos_lt; lra|lra]).
  destruct (H _ Hd) as [q' [H1 H2]].
  revert H1 H2; unfold Rdiv; split_Rabs; lra.
Qed.

Lemma right_deriv_unique u x l1 l2 : right_deriv u x l1 -> right_deriv u x l2 -> l1 = l2.
Proof.
  intros H1 H2; apply close_to_both_eq; intros eps Heps.
  destruct (H1 eps Heps) as [d1 [Hd1 K1]]; destruct (H2 eps Heps) as [d2 [Hd2 K2]].
  set (t := Rmin d1 d2 / 2).
  assert (Ht : 0 < t < d1 /\ t < d2).
  { pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
    pose proof (Rmin_glb_lt d1 d2 0 Hd1 Hd2); unfold t; lra. }
  exists ((u (x + t) - u x) / t); split; [apply K1|apply K2]; lra.
Qed.

Lemma left_deriv_unique u x l1 l2 : left_deriv u x l1 -> left_deriv u x l2 -> l1 = l2.
Proof.
  intros H1 H2; apply close_to_both_eq; intros eps Heps.
  destruct (H1 eps Heps) as [d1 [Hd1 K1]]; destruct (H2 eps Heps) as [d2 [Hd2 K2]].
  set (t := - (Rmin d1 d2 / 2)).
  assert (Ht : - d1 < t < 0 /\ - d2 < t).
  { pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
    pose proof (Rmin_glb_lt d1 d2 0 Hd1 Hd2); unfold t; lra. }
  exists ((u (x + t) - u x) / t); split; [apply K1|apply K2]; lra.
Qed.

(* |a - t l| <= e |t| gives |a / t - l| <= e *)
Lemma quotient_bound a t l e : t <> 0 -> Rabs (a - t * l) <= e * Rabs t -> Rabs (a / t - l) <= e.
Proof.
  intros Ht H.
  replace (a / t - l) with ((a - t * l) * / t) by (field; exact Ht).
  rewrite Rabs_mult, Rabs_inv.
  pose proof (Rabs_pos_lt t Ht) as Hp.
  apply Rmult_le_reg_r with (Rabs t); [exact Hp|].
  rewrite Rmult_assoc, Rinv_l, Rmult_1_r; [exact H|lra].
Qed.

(* A first-order estimate at x gives both one-sided derivatives. *)
Lemma one_sided_of_estimate u x l :
  (forall eps, 0 < eps -> exists delta, 0 < delta /\ forall t, Rabs t < delta ->
     Rabs (u (x + t) - u x - t * l) <= eps * Rabs t) ->
  right_deriv u x l /\ left_deriv u x l.
Proof.
  intros H; split; intros eps Heps;
    destruct (H (eps / 2)) as [d [Hd K]]; try lra; exists d; split; try exact Hd;
    intros t Ht; (eapply Rle_lt_trans; [apply quotient_bound; [lra|apply K]|lra]);
    split_Rabs; lra.
Qed.

(* Directional version: along any supported v, t -> f (w + t v) has both
   one-sided derivatives at 0 equal to dot W g v. *)
Lemma differentiable_directional_one_sided W f w g v :
  differentiable_at W f w g -> supported W v ->
  right_deriv (fun t => f (vadd w (vscale t v))) 0 (dot W g v) /\
  left_deriv (fun t => f (vadd w (vscale t v))) 0 (dot W g v).
Proof.
  intros Hd Hv; apply one_sided_of_estimate; intros eps Heps.
  destruct (differentiable_at_directional W f w g v Hd Hv eps Heps) as [d [Hd0 K]].
  exists d; split; [exact Hd0|]; intros t Ht; cbv beta.
  rewrite Rplus_0_l, vscale_0_l, vadd_vzero_r; now apply K.
Qed.

(* Along a coordinate p < W the one-sided derivatives are both g p. *)
Lemma differentiable_one_sided W f w g p :
  differentiable_at W f w g -> (p < W)%nat ->
  right_deriv (fun t => f (upd w p (w p + t))) 0 (g p) /\
  left_deriv (fun t => f (upd w p (w p + t))) 0 (g p).
Proof.
  intros Hd Hp.
  assert (Hu : (fun t => f (upd w p (w p + t))) = (fun t => f (vadd w (vscale t (unit_vec p))))).
  { apply FunctionalExtensionality.functional_extensionality; intros t; now rewrite upd_vadd_unit. }
  rewrite Hu, <- (dot_unit_vec_r W g p Hp).
  apply differentiable_directional_one_sided; [exact Hd|now apply supported_unit_vec].
Qed.

Lemma directional_one_sided_differ_not_differentiable W f w v l1 l2 :
  supported W v ->
  right_deriv (fun t => f (vadd w (vscale t v))) 0 l1 ->
  left_deriv (fun t => f (vadd w (vscale t v))) 0 l2 ->
  l1 <> l2 -> ~ differentiable W f w.
Proof.
  intros Hv Hr Hl Hne [g Hd].
  destruct (differentiable_directional_one_sided W f w g v Hd Hv) as [Hr' Hl'].
  apply Hne; rewrite (right_deriv_unique _ _ _ _ Hr Hr'); exact (left_deriv_unique _ _ _ _ Hl' Hl).
Qed.

Lemma one_sided_differ_not_differentiable W f w p l1 l2 :
  (p < W)%nat ->
  right_deriv (fun t => f (upd w p (w p + t))) 0 l1 ->
  left_deriv (fun t => f (upd w p (w p + t))) 0 l2 ->
  l1 <> l2 -> ~ differentiable W f w.
Proof.
  intros Hp Hr Hl Hne [g Hd].
  destruct (differentiable_one_sided W f w g p Hd Hp) as [Hr' Hl'].
  apply Hne; rewrite (right_deriv_unique _ _ _ _ Hr Hr'); exact (left_deriv_unique _ _ _ _ Hl' Hl).
Qed.
