(* LayerNorm of any width as a smooth pre-activation (THEORY.md section 3,
   tau_k C1; issue 18, item 3), generalising LayerNorm2.v: for n >= 1
   entries z_(ix 0), ..., z_(ix (n-1)) of the packed (w, z) and eps > 0,
   entry i of the normalised layer,
     y_i = (x_i - m) / s,  m = (sum_j x_j) / n,  s = sqrt((sum_j (x_j - m)^2) / n + eps),
   is a C1 function of (w, z) ([layernorm], a [c1_output], built with
   C1Algebra.v), with partial derivatives
     d y_i / d u_k = (e_i(k) - c(k)/n - y_i (sum_l y_l e_l(k)) / n) / s
   where e_l = unit vector of the coordinate of x_l and c(k) = sum_l e_l(k);
   for distinct indices, d y_i / d x_j = (delta_ij - 1/n - y_i y_j / n) / s. *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output C1Algebra.
Open Scope R_scope.

(* the formula, for the entries x_0 .. x_(n-1) *)
Definition ln_mean (n : nat) (x : nat -> R) : R := sumn n x / INR n.
Definition ln_var (n : nat) (x : nat -> R) : R :=
  sumn n (fun j => (x j - ln_mean n x) * (x j - ln_mean n x)) / INR n.
Definition ln_formula (eps : R) (n : nat) (x : nat -> R) (i : nat) : R :=
  (x i - ln_mean n x) / sqrt (ln_var n x + eps).

Section LayerNorm.
Variables (eps : R) (W N n : nat) (ix : nat -> nat) (i : nat).
Hypothesis Heps : 0 < eps.
Hypothesis Hn : (0 < n)%nat.
Hypothesis Hix : forall j, (j < n)%nat -> (ix j < N)%nat.

Local Notation M := (W + N)%nat.

Definition lnc_x (j : nat) : c1_output W N := c1_coord0 W N (W + ix j).
Definition lnc_mean : c1_output W N := c1_scal W N (/ INR n) (c1_sumn W N lnc_x n).
Definition lnc_dev (j : nat) : c1_output W N := c1_plus W N (lnc_x j) (c1_scal W N (-1) lnc_mean).
Definition lnc_var : c1_output W N :=
  c1_scal W N (/ INR n) (c1_sumn W N (fun j => c1_mult W N (lnc_dev j) (lnc_dev j)) n).
Definition lnc_den : c1_output W N := c1_plus W N lnc_var (c1_const W N eps).

Lemma INR_n_pos : 0 < INR n.
Proof. apply lt_0_INR, Hn. Qed.

Lemma lnc_den_pos u : 0 < c1_g lnc_den u.
Proof.
  simpl; pose proof INR_n_pos.
  assert (0 <= sumn n (fun j => c1_g (c1_mult W N (lnc_dev j) (lnc_dev j)) u)).
  { apply sumn_nonneg; intros j _; simpl; apply Rle_0_sqr. }
  rewrite c1_sumn_g; pose proof (Rinv_0_lt_compat _ H).
  assert (0 <= / INR n * sumn n (fun j => c1_g (c1_mult W N (lnc_dev j) (lnc_dev j)) u))
    by (apply Rmult_le_pos; lra).
  lra.
Qed.

Definition lnc_r : c1_output W N :=
  c1_comp W N inv_sqrt dinv_sqrt lnc_den (fun u => inv_sqrt_derive _ (lnc_den_pos u))
    (fun u => dinv_sqrt_cont _ (lnc_den_pos u)).

(* entry i of LayerNorm: (x_i - m) * (1 / sqrt(var + eps)) *)
Definition layernorm : c1_output W N := c1_mult W N (lnc_dev i) lnc_r.

(** * Its value *)

Definition ln_entries (u : vec) : nat -> R := fun j => u (W + ix j)%nat.

Lemma lnc_x_g u j : (j < n)%nat -> c1_g (lnc_x j) u = ln_entries u j.
Proof. intros Hj; unfold lnc_x; rewrite c1_coord0_g; [reflexivity|]; pose proof (Hix j Hj); lia. Qed.

Lemma lnc_mean_g u : c1_g lnc_mean u = ln_mean n (ln_entries u).
Proof.
  simpl; rewrite c1_sumn_g, (sumn_ext n _ (ln_entries u)) by (intros; apply lnc_x_g; assumption).
  unfold ln_mean, Rdiv; ring.
Qed.

Lemma lnc_dev_g u j : (j < n)%nat -> c1_g (lnc_dev j) u = ln_entries u j - ln_mean n (ln_entries u).
Proof.
  intros Hj; change (c1_g (lnc_x j) u + -1 * c1_g lnc_mean u = ln_entries u j - ln_mean n (ln_entries u)).
  rewrite lnc_x_g, lnc_mean_g by exact Hj; ring.
Qed.

Lemma lnc_var_g u : c1_g lnc_var u = ln_var n (ln_entries u).
Proof.
  change (/ INR n * c1_g (c1_sumn W N (fun j => c1_mult W N (lnc_dev j) (lnc_dev j)) n) u =
          ln_var n (ln_entries u)).
  rewrite c1_sumn_g; unfold ln_var; rewrite (sumn_ext n _
    (fun j => (ln_entries u j - ln_mean n (ln_entries u)) * (ln_entries u j - ln_mean n (ln_entries u)))).
  - unfold Rdiv; ring.
  - intros j Hj; change (c1_g (c1_mult W N (lnc_dev j) (lnc_dev j)) u)
      with (c1_g (lnc_dev j) u * c1_g (lnc_dev j) u); rewrite lnc_dev_g by exact Hj; reflexivity.
Qed.

Lemma lnc_den_g u : c1_g lnc_den u = ln_var n (ln_entries u) + eps.
Proof. change (c1_g lnc_var u + eps = ln_var n (ln_entries u) + eps); rewrite lnc_var_g; reflexivity. Qed.

Hypothesis Hi : (i < n)%nat.

Theorem layernorm_eval u : c1_g layernorm u = ln_formula eps n (ln_entries u) i.
Proof.
  change (c1_g (lnc_dev i) u * inv_sqrt (c1_g lnc_den u) = ln_formula eps n (ln_entries u) i).
  rewrite lnc_dev_g, lnc_den_g by exact Hi; unfold inv_sqrt, ln_formula, Rdiv; reflexivity.
Qed.

(** * Its partial derivatives *)

(* e_l(k) and c(k) = sum_l e_l(k) *)
Definition ln_e (l k : nat) : R := unit_vec (W + ix l) k.
Definition ln_cnt (k : nat) : R := sumn n (fun l => ln_e l k).

Definition ln_grad (u : vec) (k : nat) : R :=
  let x := ln_entries u in
  let s := sqrt (ln_var n x + eps) in
  (ln_e i k - ln_cnt k / INR n
   - ln_formula eps n x i * sumn n (fun l => ln_formula eps n x l * ln_e l k) / INR n) / s.

Lemma lnc_x_dg u j k : (j < n)%nat -> c1_dg (lnc_x j) u k = ln_e j k.
Proof. intros Hj; unfold lnc_x; rewrite c1_coord0_dg; [reflexivity|]; pose proof (Hix j Hj); lia. Qed.

Lemma lnc_mean_dg u k : c1_dg lnc_mean u k = ln_cnt k / INR n.
Proof.
  change (/ INR n * c1_dg (c1_sumn W N lnc_x n) u k = ln_cnt k / INR n).
  rewrite c1_sumn_dg, (sumn_ext n _ (fun l => ln_e l k)) by (intros; apply lnc_x_dg; assumption).
  unfold ln_cnt, Rdiv; ring.
Qed.

Lemma lnc_dev_dg u j k : (j < n)%nat -> c1_dg (lnc_dev j) u k = ln_e j k - ln_cnt k / INR n.
Proof.
  intros Hj; change (c1_dg (lnc_x j) u k + -1 * c1_dg lnc_mean u k = ln_e j k - ln_cnt k / INR n).
  rewrite lnc_x_dg, lnc_mean_dg by exact Hj; ring.
Qed.

Lemma sumn_dev_zero x : sumn n (fun j => x j - ln_mean n x) = 0.
Proof.
  rewrite sumn_minus; replace (sumn n (fun _ => ln_mean n x)) with (sumn n (fun _ => ln_mean n x * 1))
    by (apply sumn_ext; intros; ring).
  rewrite sumn_scal.
  assert (E : sumn n (fun _ => 1) = INR n).
  { clear; induction n as [|m IH]; [reflexivity|]; rewrite sumn_S, IH, S_INR; ring. }
  rewrite E; unfold ln_mean; field; apply Rgt_not_eq, INR_n_pos.
Qed.

Lemma lnc_var_dg u k :
  c1_dg lnc_var u k =
  2 / INR n * sumn n (fun l => (ln_entries u l - ln_mean n (ln_entries u)) * ln_e l k).
Proof.
  set (x := ln_entries u); set (m := ln_mean n x).
  change (/ INR n * c1_dg (c1_sumn W N (fun j => c1_mult W N (lnc_dev j) (lnc_dev j)) n) u k =
          2 / INR n * sumn n (fun l => (x l - m) * ln_e l k)).
  rewrite c1_sumn_dg.
  rewrite (sumn_ext n _ (fun l => 2 * ((x l - m) * ln_e l k) - (2 * (ln_cnt k / INR n)) * (x l - m))).
  - rewrite sumn_minus, !sumn_scal; unfold m, x; rewrite sumn_dev_zero; unfold Rdiv; ring.
  - intros l Hl; change (c1_dg (c1_mult W N (lnc_dev l) (lnc_dev l)) u k)
      with (c1_g (lnc_dev l) u * c1_dg (lnc_dev l) u k + c1_g (lnc_dev l) u * c1_dg (lnc_dev l) u k).
    rewrite lnc_dev_dg, lnc_dev_g by exact Hl; unfold m, x; ring.
Qed.

Theorem layernorm_grad u k : c1_dg layernorm u k = ln_grad u k.
Proof.
  set (x := ln_entries u); set (m := ln_mean n x); set (v := ln_var n x).
  change (c1_g (lnc_dev i) u * (dinv_sqrt (c1_g lnc_den u) * c1_dg lnc_den u k)
          + inv_sqrt (c1_g lnc_den u) * c1_dg (lnc_dev i) u k = ln_grad u k).
  change (c1_dg lnc_den u k) with (c1_dg lnc_var u k + vzero k).
  rewrite lnc_den_g, lnc_var_dg, lnc_dev_g, lnc_dev_dg by exact Hi.
  fold x m v; unfold vzero, ln_grad, dinv_sqrt, inv_sqrt; fold x; fold v.
  unfold ln_formula; fold m v.
  set (s := sqrt (v + eps)).
  rewrite (sumn_ext n (fun l => (x l - m) / s * ln_e l k) (fun l => / s * ((x l - m) * ln_e l k)))
    by (intros; unfold Rdiv; ring).
  rewrite sumn_scal.
  assert (Hv : 0 < v + eps) by (pose proof (lnc_den_pos u) as P; rewrite lnc_den_g in P; exact P).
  assert (Hs : 0 < s) by (apply sqrt_lt_R0; exact Hv).
  assert (Hss : s * s = v + eps) by (apply sqrt_sqrt; lra).
  pose proof INR_n_pos.
  rewrite <- Hss; field; lra.
Qed.

(* distinct entries: d y_i / d x_j = (delta_ij - 1/n - y_i y_j / n) / s *)
Hypothesis Hinj : forall j l, (j < n)%nat -> (l < n)%nat -> ix j = ix l -> j = l.

Lemma sumn_ln_e (f : nat -> R) j : (j < n)%nat -> sumn n (fun l => f l * ln_e l (W + ix j)) = f j.
Proof.
  intros Hj; assert (G : forall p, (p <= n)%nat ->
    sumn p (fun l => f l * ln_e l (W + ix j)) = if lt_dec j p then f j else 0).
  { induction p as [|p IH]; intros Hp; [reflexivity|]; rewrite sumn_S, IH by lia.
    unfold ln_e, unit_vec; destruct (Nat.eq_dec (W + ix j) (W + ix p)) as [E|E].
    - assert (j = p) by (apply Hinj; lia); subst p.
      destruct (lt_dec j j); [lia|]; destruct (lt_dec j (S j)); [ring | lia].
    - destruct (Nat.eq_dec j p) as [->|Hne]; [lia|].
      destruct (lt_dec j p), (lt_dec j (S p)); try lia; ring. }
  rewrite G by lia; destruct (lt_dec j n); [reflexivity | lia].
Qed.

Theorem layernorm_partial u j : (j < n)%nat ->
  c1_dg layernorm u (W + ix j)%nat =
  ((if Nat.eq_dec i j then 1 else 0) - 1 / INR n
   - ln_formula eps n (ln_entries u) i * ln_formula eps n (ln_entries u) j / INR n)
  / sqrt (ln_var n (ln_entries u) + eps).
Proof.
  intros Hj; rewrite layernorm_grad; unfold ln_grad, ln_cnt.
  rewrite sumn_ln_e by exact Hj.
  rewrite (sumn_ext n (fun l => ln_e l (W + ix j)) (fun l => 1 * ln_e l (W + ix j))) by (intros; ring).
  rewrite sumn_ln_e by exact Hj.
  replace (ln_e i (W + ix j)) with (if Nat.eq_dec i j then 1 else 0); [reflexivity|].
  unfold ln_e, unit_vec; destruct (Nat.eq_dec i j) as [E0|Hne];
    destruct (Nat.eq_dec (W + ix j) (W + ix i)) as [E|E]; try reflexivity.
  - exfalso; apply E; rewrite E0; reflexivity.
  - exfalso; apply Hne, Hinj; [exact Hi | exact Hj | lia].
Qed.

(* the other coordinates: d y_i / d u_k = 0 *)
Theorem layernorm_partial_other u k : (forall j, (j < n)%nat -> k <> (W + ix j)%nat) ->
  c1_dg layernorm u k = 0.
Proof.
  intros Hk; rewrite layernorm_grad; unfold ln_grad, ln_cnt.
  assert (E : forall l, (l < n)%nat -> ln_e l k = 0).
  { intros l Hl; unfold ln_e, unit_vec; destruct (Nat.eq_dec k (W + ix l)); [exfalso; exact (Hk l Hl e) | reflexivity]. }
  rewrite (sumn_ext n _ (fun _ => 0 * 0)), (sumn_ext n (fun l => _ * ln_e l k) (fun _ => 0 * 0)), !sumn_scal
    by (intros l Hl; rewrite E by exact Hl; ring).
  rewrite E by exact Hi; unfold Rdiv; ring.
Qed.

End LayerNorm.
