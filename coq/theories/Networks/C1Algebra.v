(* Building C1 functions with their gradients (THEORY.md section 3, tau_k C1;
   issue 18, item 3): the [c1_output]s of C1Output.v are closed under
   constants, coordinates, sums, finite sums, scalings, products and
   composition with a function of one variable that is differentiable, with
   a continuous derivative, at every value taken (e.g. 1/sqrt on a positive
   range).  Used to give LayerNorm of any width and softmax as smooth
   pre-activations (Theorems/LayerNorm.v, Theorems/Softmax.v). *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output.
Open Scope R_scope.

Section Algebra.
Variables (W N : nat).
Local Notation M := (W + N)%nat.

Definition c1_const (c : R) : c1_output W N :=
  mk_c1_output W N (fun _ => c) (fun _ => vzero)
    (fun u => differentiable_at_const M c u) (fun u i => continuous_at_const M 0 u).

Definition c1_coord (p : nat) (Hp : (p < M)%nat) : c1_output W N :=
  mk_c1_output W N (fun u => u p) (fun _ => unit_vec p)
    (fun u => differentiable_at_coord M p u Hp) (fun u i => continuous_at_const M (unit_vec p i) u).

Lemma c1_g_continuous (f : c1_output W N) u : continuous_at M (c1_g f) u.
Proof. exact (differentiable_continuous _ _ _ _ (c1_diff _ _ f u)). Qed.

Lemma c1_plus_diff (f g : c1_output W N) u :
  differentiable_at M (fun v => c1_g f v + c1_g g v) u (vadd (c1_dg f u) (c1_dg g u)).
Proof. apply differentiable_at_plus; apply c1_diff. Qed.

Lemma c1_plus_cont (f g : c1_output W N) u i :
  continuous_at M (fun v => vadd (c1_dg f v) (c1_dg g v) i) u.
Proof. unfold vadd; apply (continuous_at_plus M (fun v => c1_dg f v i)); apply c1_cont. Qed.

Definition c1_plus (f g : c1_output W N) : c1_output W N :=
  mk_c1_output W N (fun v => c1_g f v + c1_g g v) (fun v => vadd (c1_dg f v) (c1_dg g v))
    (c1_plus_diff f g) (c1_plus_cont f g).

Lemma c1_scal_diff c (f : c1_output W N) u :
  differentiable_at M (fun v => c * c1_g f v) u (vscale c (c1_dg f u)).
Proof. apply differentiable_at_scal, c1_diff. Qed.

Lemma c1_scal_cont c (f : c1_output W N) u i :
  continuous_at M (fun v => vscale c (c1_dg f v) i) u.
Proof. unfold vscale; apply (continuous_at_mult M (fun _ => c)); [apply continuous_at_const | apply c1_cont]. Qed.

Definition c1_scal (c : R) (f : c1_output W N) : c1_output W N :=
  mk_c1_output W N (fun v => c * c1_g f v) (fun v => vscale c (c1_dg f v)) (c1_scal_diff c f) (c1_scal_cont c f).

Lemma c1_mult_diff (f g : c1_output W N) u :
  differentiable_at M (fun v => c1_g f v * c1_g g v) u
    (vadd (vscale (c1_g f u) (c1_dg g u)) (vscale (c1_g g u) (c1_dg f u))).
Proof. apply differentiable_at_mult; apply c1_diff. Qed.

Lemma c1_mult_cont (f g : c1_output W N) u i :
  continuous_at M (fun v => vadd (vscale (c1_g f v) (c1_dg g v)) (vscale (c1_g g v) (c1_dg f v)) i) u.
Proof.
  unfold vadd, vscale.
  apply (continuous_at_plus M (fun v => c1_g f v * c1_dg g v i));
    apply continuous_at_mult; (apply c1_g_continuous || apply c1_cont).
Qed.

Definition c1_mult (f g : c1_output W N) : c1_output W N :=
  mk_c1_output W N (fun v => c1_g f v * c1_g g v)
    (fun v => vadd (vscale (c1_g f v) (c1_dg g v)) (vscale (c1_g g v) (c1_dg f v)))
    (c1_mult_diff f g) (c1_mult_cont f g).

(* sum_(j<n) F_j *)
Fixpoint c1_sumn (F : nat -> c1_output W N) (n : nat) : c1_output W N :=
  match n with
  | O => c1_const 0
  | S m => c1_plus (c1_sumn F m) (F m)
  end.

Lemma c1_sumn_g (F : nat -> c1_output W N) n u : c1_g (c1_sumn F n) u = sumn n (fun j => c1_g (F j) u).
Proof.
  induction n as [|n IH]; [reflexivity|]; rewrite sumn_S, <- IH; reflexivity.
Qed.

Lemma c1_sumn_dg (F : nat -> c1_output W N) n u k :
  c1_dg (c1_sumn F n) u k = sumn n (fun j => c1_dg (F j) u k).
Proof.
  induction n as [|n IH]; [reflexivity|]; rewrite sumn_S, <- IH; reflexivity.
Qed.

(* phi o f, phi differentiable with a continuous derivative at every value of f *)
Section Comp.
Variables (phi dphi : R -> R) (f : c1_output W N).
Hypothesis Hd : forall u, is_derive phi (c1_g f u) (dphi (c1_g f u)).
Hypothesis Hc : forall u, continuity_pt dphi (c1_g f u).

Lemma c1_comp_diff u :
  differentiable_at M (fun v => phi (c1_g f v)) u (vscale (dphi (c1_g f u)) (c1_dg f u)).
Proof. apply (differentiable_at_comp_is_derive M phi (c1_g f)); [apply Hd | apply c1_diff]. Qed.

Lemma c1_comp_cont u i : continuous_at M (fun v => vscale (dphi (c1_g f v)) (c1_dg f v) i) u.
Proof.
  unfold vscale; apply (continuous_at_mult M (fun v => dphi (c1_g f v))); [|apply c1_cont].
  apply (continuous_at_comp M dphi (c1_g f)); [apply Hc | apply c1_g_continuous].
Qed.

Definition c1_comp : c1_output W N :=
  mk_c1_output W N (fun v => phi (c1_g f v)) (fun v => vscale (dphi (c1_g f v)) (c1_dg f v))
    c1_comp_diff c1_comp_cont.

End Comp.

End Algebra.

(** * Two functions of one variable on (0, oo) *)

Definition inv_sqrt (t : R) : R := / sqrt t.
Definition dinv_sqrt (t : R) : R := - / (2 * t * sqrt t).

Lemma inv_sqrt_derive t : 0 < t -> is_derive inv_sqrt t (dinv_sqrt t).
Proof.
  intros Ht; pose proof (sqrt_lt_R0 t Ht); pose proof (sqrt_sqrt t (Rlt_le _ _ Ht)).
  unfold inv_sqrt, dinv_sqrt; auto_derive; [lra|].
  field_simplify; [|lra|lra].
  rewrite <- H0 at 3; field; lra.
Qed.

Lemma dinv_sqrt_cont t : 0 < t -> continuity_pt dinv_sqrt t.
Proof.
  intros Ht; pose proof (sqrt_lt_R0 t Ht).
  unfold dinv_sqrt; apply continuity_pt_opp, continuity_pt_inv.
  - apply continuity_pt_mult; [|apply continuity_pt_sqrt; lra].
    apply continuity_pt_mult; [apply continuity_pt_const; intros ? ?; reflexivity | apply continuity_pt_id].
  - apply Rgt_not_eq, Rmult_lt_0_compat; [|exact H]; lra.
Qed.

Definition dinv (t : R) : R := - / (t * t).

Lemma inv_derive t : 0 < t -> is_derive Rinv t (dinv t).
Proof. intros Ht; unfold dinv; auto_derive; [lra | field; lra]. Qed.

Lemma dinv_cont t : 0 < t -> continuity_pt dinv t.
Proof.
  intros Ht; unfold dinv; apply continuity_pt_opp, continuity_pt_inv;
    [apply continuity_pt_mult; apply continuity_pt_id | apply Rgt_not_eq, Rmult_lt_0_compat; lra].
Qed.

Lemma sumn_nonneg n f : (forall j, (j < n)%nat -> 0 <= f j) -> 0 <= sumn n f.
Proof.
  induction n as [|n IH]; intros H; [unfold sumn, sum_list; simpl; lra|].
  rewrite sumn_S; pose proof (H n ltac:(lia)); assert (0 <= sumn n f) by (apply IH; intros; apply H; lia); lra.
Qed.

Lemma sumn_pos n f : (0 < n)%nat -> (forall j, (j < n)%nat -> 0 < f j) -> 0 < sumn n f.
Proof.
  destruct n as [|n]; intros Hn H; [lia|]; rewrite sumn_S.
  assert (0 <= sumn n f) by (apply sumn_nonneg; intros; apply Rlt_le, H; lia).
  pose proof (H n ltac:(lia)); lra.
Qed.

(* the coordinate u_p when p < W + N (the constant 0 otherwise) *)
Definition c1_coord0 (W N p : nat) : c1_output W N :=
  match lt_dec p (W + N) with
  | left H => c1_coord W N p H
  | right _ => c1_const W N 0
  end.

Lemma c1_coord0_g W N p u : (p < W + N)%nat -> c1_g (c1_coord0 W N p) u = u p.
Proof. intros Hp; unfold c1_coord0; destruct (lt_dec p (W + N)); [reflexivity | lia]. Qed.

Lemma c1_coord0_dg W N p u : (p < W + N)%nat -> c1_dg (c1_coord0 W N p) u = unit_vec p.
Proof. intros Hp; unfold c1_coord0; destruct (lt_dec p (W + N)); [reflexivity | lia]. Qed.
