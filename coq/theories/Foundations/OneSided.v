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

(* ------------------------------------------------------------------------- *)
(* Computing one-sided derivatives: both sides at once through [side_deriv],
   where [side d t] says that t is an admissible increment for the radius d. *)

Definition side_deriv (side : R -> R -> Prop) (u : R -> R) (x l : R) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\
    forall t, side delta t -> Rabs ((u (x + t) - u x) / t - l) < eps.

Definition side_mono (side : R -> R -> Prop) : Prop :=
  forall d d' t, d <= d' -> side d t -> side d' t.

Definition right_side (d t : R) : Prop := 0 < t < d.
Definition left_side (d t : R) : Prop := - d < t < 0.

Lemma right_side_mono : side_mono right_side.
Proof. intros d d' t Hd [H1 H2]; split; lra. Qed.

Lemma left_side_mono : side_mono left_side.
Proof. intros d d' t Hd [H1 H2]; split; lra. Qed.

Lemma right_deriv_side u x l : right_deriv u x l <-> side_deriv right_side u x l.
Proof. split; intros H; exact H. Qed.

Lemma left_deriv_side u x l : left_deriv u x l <-> side_deriv left_side u x l.
Proof. split; intros H; exact H. Qed.

Lemma side_deriv_ext side u v x l :
  (forall t, u t = v t) -> side_deriv side v x l -> side_deriv side u x l.
Proof.
  intros He H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; rewrite !He; now apply K.
Qed.

Lemma side_deriv_const side c x : side_deriv side (fun _ => c) x 0.
Proof.
  intros eps Heps; exists 1; split; [lra|]; intros t _.
  replace ((c - c) / t - 0) with 0 by (unfold Rdiv; ring); rewrite Rabs_R0; exact Heps.
Qed.

Lemma side_deriv_plus side u v x lu lv :
  side_mono side -> side_deriv side u x lu -> side_deriv side v x lv ->
  side_deriv side (fun t => u t + v t) x (lu + lv).
Proof.
  intros Hm Hu Hv eps Heps.
  destruct (Hu (eps / 2)) as [d1 [Hd1 K1]]; [lra|]; destruct (Hv (eps / 2)) as [d2 [Hd2 K2]]; [lra|].
  exists (Rmin d1 d2); split; [now apply Rmin_glb_lt|]; intros t Ht.
  specialize (K1 t (Hm _ _ _ (Rmin_l d1 d2) Ht)); specialize (K2 t (Hm _ _ _ (Rmin_r d1 d2) Ht)).
  destruct (Req_dec t 0) as [->|Ht0].
  { revert K1 K2; unfold Rdiv; rewrite !Rinv_0, !Rmult_0_r; split_Rabs; lra. }
  replace ((u (x + t) + v (x + t) - (u x + v x)) / t - (lu + lv))
    with (((u (x + t) - u x) / t - lu) + ((v (x + t) - v x) / t - lv)) by (field; exact Ht0).
  eapply Rle_lt_trans; [apply Rabs_triang|lra].
Qed.

Lemma side_deriv_scal side c u x l :
  side_deriv side u x l -> side_deriv side (fun t => c * u t) x (c * l).
Proof.
  intros Hu eps Heps; pose proof (Rabs_pos c) as Hc.
  destruct (Hu (eps / (Rabs c + 1))) as [d [Hd K]]; [apply Rdiv_lt_0_compat; lra|].
  exists d; split; [exact Hd|]; intros t Ht; specialize (K t Ht).
  replace ((c * u (x + t) - c * u x) / t - c * l) with (c * ((u (x + t) - u x) / t - l))
    by (unfold Rdiv; ring).
  rewrite Rabs_mult.
  apply Rle_lt_trans with (Rabs c * (eps / (Rabs c + 1))); [apply Rmult_le_compat_l; lra|].
  replace (Rabs c * (eps / (Rabs c + 1))) with (eps - eps / (Rabs c + 1)) by (field; lra).
  assert (0 < eps / (Rabs c + 1)) by (apply Rdiv_lt_0_compat; lra); lra.
Qed.

(* u agrees with v at x and on the admissible increments of a radius d0 *)
Lemma side_deriv_local side u v x l d0 :
  side_mono side -> 0 < d0 -> u x = v x -> (forall t, side d0 t -> u (x + t) = v (x + t)) ->
  side_deriv side v x l -> side_deriv side u x l.
Proof.
  intros Hm Hd0 Hx He Hv eps Heps; destruct (Hv eps Heps) as [d [Hd K]].
  exists (Rmin d d0); split; [now apply Rmin_glb_lt|]; intros t Ht.
  rewrite Hx, He by exact (Hm _ _ _ (Rmin_r d d0) Ht); exact (K t (Hm _ _ _ (Rmin_l d d0) Ht)).
Qed.

(* Right and left instances *)

Lemma right_deriv_ext u v x l : (forall t, u t = v t) -> right_deriv v x l -> right_deriv u x l.
Proof. exact (side_deriv_ext right_side u v x l). Qed.

Lemma left_deriv_ext u v x l : (forall t, u t = v t) -> left_deriv v x l -> left_deriv u x l.
Proof. exact (side_deriv_ext left_side u v x l). Qed.

Lemma right_deriv_const c x : right_deriv (fun _ => c) x 0.
Proof. exact (side_deriv_const right_side c x). Qed.

Lemma left_deriv_const c x : left_deriv (fun _ => c) x 0.
Proof. exact (side_deriv_const left_side c x). Qed.

Lemma right_deriv_plus u v x lu lv :
  right_deriv u x lu -> right_deriv v x lv -> right_deriv (fun t => u t + v t) x (lu + lv).
Proof. exact (side_deriv_plus right_side u v x lu lv right_side_mono). Qed.

Lemma left_deriv_plus u v x lu lv :
  left_deriv u x lu -> left_deriv v x lv -> left_deriv (fun t => u t + v t) x (lu + lv).
Proof. exact (side_deriv_plus left_side u v x lu lv left_side_mono). Qed.

Lemma right_deriv_scal c u x l : right_deriv u x l -> right_deriv (fun t => c * u t) x (c * l).
Proof. exact (side_deriv_scal right_side c u x l). Qed.

Lemma left_deriv_scal c u x l : left_deriv u x l -> left_deriv (fun t => c * u t) x (c * l).
Proof. exact (side_deriv_scal left_side c u x l). Qed.

Lemma right_deriv_local u v x l d0 :
  0 < d0 -> u x = v x -> (forall t, 0 < t < d0 -> u (x + t) = v (x + t)) ->
  right_deriv v x l -> right_deriv u x l.
Proof. exact (side_deriv_local right_side u v x l d0 right_side_mono). Qed.

Lemma left_deriv_local u v x l d0 :
  0 < d0 -> u x = v x -> (forall t, - d0 < t < 0 -> u (x + t) = v (x + t)) ->
  left_deriv v x l -> left_deriv u x l.
Proof. exact (side_deriv_local left_side u v x l d0 left_side_mono). Qed.

(* A derivative is a right and a left derivative *)
Lemma derivable_pt_lim_one_sided u x l :
  derivable_pt_lim u x l -> right_deriv u x l /\ left_deriv u x l.
Proof.
  intros H; apply one_sided_of_estimate; intros eps Heps.
  destruct (derivable_pt_lim_estimate u x l H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; rewrite Rmult_comm; now apply K.
Qed.

(* Equal one-sided derivatives give a derivative *)
Lemma one_sided_derivable_pt_lim u x l :
  right_deriv u x l -> left_deriv u x l -> derivable_pt_lim u x l.
Proof.
  intros Hr Hl eps Heps.
  destruct (Hr eps Heps) as [d1 [Hd1 K1]]; destruct (Hl eps Heps) as [d2 [Hd2 K2]].
  exists (mkposreal _ (Rmin_glb_lt d1 d2 0 Hd1 Hd2)); simpl; intros t Ht0 Ht.
  pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
  destruct (Rlt_or_le 0 t) as [Hp|Hn].
  - apply K1; rewrite Rabs_pos_eq in Ht by lra; lra.
  - apply K2; rewrite Rabs_left1 in Ht by lra; lra.
Qed.
