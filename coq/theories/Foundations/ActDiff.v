(* Differentiability of an activation off its kinks (THEORY.md section 2:
   sigma is differentiable exactly outside ndf(sigma); used in sections 4-6
   for "no kink neuron => f differentiable").  At a point x that is not a
   kink, act_eval a has derivative slope_left a x (= slope_right a x): left of
   x it agrees with the left piece, right of x with the right piece, both
   pieces take the value act_eval a x at x and have the same slope there. *)
From Coq Require Import Reals Lra.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Activation.
Open Scope R_scope.

(* A function agreeing with gl on a left neighbourhood (x included) and with
   gr on a right neighbourhood, both having derivative l at x, has
   derivative l at x. *)
Lemma derivable_pt_lim_glue (f gl gr : R -> R) (x l d : R) :
  0 < d ->
  (forall y, x - d < y <= x -> f y = gl y) ->
  (forall y, x < y < x + d -> f y = gr y) ->
  gr x = f x ->
  derivable_pt_lim gl x l -> derivable_pt_lim gr x l ->
  derivable_pt_lim f x l.
Proof.
  intros Hd Hl Hr Hrx Dl Dr eps Heps.
  destruct (Dl eps Heps) as [[dl Hdl] Kl]; destruct (Dr eps Heps) as [[dr Hdr] Kr].
  simpl in Kl, Kr.
  assert (Hm : 0 < Rmin d (Rmin dl dr)) by (repeat apply Rmin_glb_lt; lra).
  exists (mkposreal _ Hm); simpl; intros h Hh0 Hh.
  pose proof (Rmin_l d (Rmin dl dr)); pose proof (Rmin_r d (Rmin dl dr)).
  pose proof (Rmin_l dl dr); pose proof (Rmin_r dl dr).
  apply Rabs_def2 in Hh as Hh'.
  assert (Hlx : f x = gl x) by (apply Hl; lra).
  destruct (Rlt_dec h 0).
  - rewrite Hl, Hlx by lra; apply Kl; [exact Hh0|lra].
  - rewrite Hr, <- Hrx by lra; apply Kr; [exact Hh0|lra].
Qed.

Lemma piece_derivable (a : activation) (i : nat) (x : R) :
  derivable_pt_lim (piece a i) x (dpiece a i x).
Proof. apply is_derive_Reals, piece_derive. Qed.

Lemma act_derivable_not_kink (a : activation) (x : R) :
  ~ is_kink a x -> derivable_pt_lim (act_eval a) x (slope_left a x).
Proof.
  intros Hk.
  destruct (act_eval_left_pieces a x) as [d1 [Hd1 H1]].
  destruct (act_eval_right_pieces a x) as [d2 [Hd2 H2]].
  apply (derivable_pt_lim_glue _ (piece a (left_piece a x)) (piece a (right_piece a x))
           x _ (Rmin d1 d2)).
  - now apply Rmin_glb_lt.
  - intros y Hy; apply H1; generalize (Rmin_l d1 d2); lra.
  - intros y Hy; apply H2; generalize (Rmin_r d1 d2); lra.
  - apply right_piece_at.
  - apply piece_derivable.
  - rewrite (not_kink_slopes a x Hk); apply piece_derivable.
Qed.

Lemma act_is_derive_not_kink (a : activation) (x : R) :
  ~ is_kink a x -> is_derive (act_eval a) x (slope_left a x).
Proof. intros Hk; apply is_derive_Reals, act_derivable_not_kink, Hk. Qed.

Lemma act_is_derive_not_kink_right (a : activation) (x : R) :
  ~ is_kink a x -> is_derive (act_eval a) x (slope_right a x).
Proof. intros Hk; rewrite <- (not_kink_slopes a x Hk); now apply act_is_derive_not_kink. Qed.

(* off the kinks, the derivative with any choice d is the derivative *)
Lemma act_is_derive_choice_not_kink (a : activation) (d x : R) :
  ~ is_kink a x -> is_derive (act_eval a) x (act_deriv_choice a d x).
Proof. intros Hk; rewrite act_deriv_choice_not_kink by exact Hk; now apply act_is_derive_not_kink_right. Qed.

Lemma act_ex_derive_not_kink (a : activation) (x : R) :
  ~ is_kink a x -> ex_derive (act_eval a) x.
Proof. intros Hk; eexists; now apply act_is_derive_not_kink. Qed.
