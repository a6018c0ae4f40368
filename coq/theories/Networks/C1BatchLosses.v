(* Mean losses of a batch as C1 outputs of the batched network (THEORY.md
   section 8.1, "combined by a loss l that is C1 in the outputs"; issue 18,
   item 4).  Copy i of base neuron k is neuron i * Nb + k of the batched
   network (Batch.v); the mean cross-entropy over B copies, each with logits
   the copies of the base neurons lsb and targets y_i, is
     (1/B) sum_(i<B) [ ln sum_(k in lsb) e^(z_(i Nb + k)) - sum_k y_i(k) z_(i Nb + k) ],
   a C1 output built from C1Losses.v's ce_output, c1_plus and c1_scal; its
   value and its partial derivatives (softmax minus target, over B; 0 in the
   parameters) are proved; likewise the mean squared error of one output
   neuron o per copy, (1/B) sum_i (z_(i Nb + o) - t_i)^2. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Network AD NoKinkAD SelectLocal C1Output C1Losses Tangent.
Import ListNotations.
Open Scope R_scope.

(** * Sums of C1 outputs *)

Section Sums.
Variables (W N : nat).

Definition c1_zero : c1_output W N :=
  mk_c1_output W N (fun _ => 0) (fun _ => vzero) (fun u => differentiable_at_const (W + N) 0 u)
    (fun u i => continuous_at_const (W + N) 0 u).

Fixpoint c1_sum (n : nat) (f : nat -> c1_output W N) : c1_output W N :=
  match n with
  | O => c1_zero
  | S m => c1_plus W N (c1_sum m f) (f m)
  end.

Lemma c1_sum_g (n : nat) (f : nat -> c1_output W N) (u : vec) :
  c1_g (c1_sum n f) u = sumn n (fun i => c1_g (f i) u).
Proof. induction n as [|n IH]; [reflexivity|]; rewrite sumn_S, <- IH; reflexivity. Qed.

Lemma c1_sum_dg (n : nat) (f : nat -> c1_output W N) (u : vec) (p : nat) :
  c1_dg (c1_sum n f) u p = sumn n (fun i => c1_dg (f i) u p).
Proof. induction n as [|n IH]; [reflexivity|]; rewrite sumn_S, <- IH; reflexivity. Qed.

End Sums.

(** * Mean cross-entropy *)

Lemma NoDup_map_shift (a : nat) (l : list nat) : NoDup l -> NoDup (map (fun k => (a + k)%nat) l).
Proof.
  induction l as [|x l IH]; intros H; simpl; [constructor|].
  inversion H as [|x' l' Hx Hl]; subst; constructor; [|apply IH, Hl].
  intros Hin; apply in_map_iff in Hin as [k [E Hk]]; assert (k = x) by lia; subst; contradiction.
Qed.

Section MeanCE.
Variables (W Nb B : nat) (lsb : list nat) (y : nat -> nat -> R).
Hypothesis Hls : lsb <> [].
Hypothesis Hlt : forall k, In k lsb -> (k < Nb)%nat.

Definition copy_logits (i : nat) : list nat := map (fun k => (i * Nb + k)%nat) lsb.

Lemma copy_logits_nonempty (i : nat) : copy_logits i <> [].
Proof. unfold copy_logits; destruct lsb; [contradiction | discriminate]. Qed.

Lemma copy_logits_lt (i : nat) : (i < B)%nat -> forall j, In j (copy_logits i) -> (j < B * Nb)%nat.
Proof.
  intros Hi j Hj; apply in_map_iff in Hj as [k [<- Hk]]; specialize (Hlt k Hk); nia.
Qed.

(* the cross-entropy of copy i (0 for i >= B) *)
Definition ce_copy (i : nat) : c1_output W (B * Nb) :=
  match lt_dec i B with
  | left Hi => ce_output W (B * Nb) (copy_logits i) (fun j => y i (j - i * Nb)%nat)
                 (copy_logits_nonempty i) (copy_logits_lt i Hi)
  | right _ => c1_zero W (B * Nb)
  end.

Definition mean_ce : c1_output W (B * Nb) := c1_scal W (B * Nb) (/ INR B) (c1_sum W (B * Nb) B ce_copy).

Lemma ce_copy_value (i : nat) (w z : vec) : (i < B)%nat ->
  c1_g (ce_copy i) (pack W w z) =
  ln (sum_list (map (fun k => exp (z (i * Nb + k)%nat)) lsb)) - sum_list (map (fun k => y i k * z (i * Nb + k)%nat) lsb).
Proof.
  intros Hi; unfold ce_copy; destruct (lt_dec i B) as [Hi'|]; [|contradiction].
  rewrite ce_output_value; unfold copy_logits; rewrite !map_map.
  f_equal; f_equal; apply map_ext; intros k; replace (i * Nb + k - i * Nb)%nat with k by lia; reflexivity.
Qed.

(* L = (1/B) sum_i CE_i *)
Theorem mean_ce_value (w z : vec) :
  c1_g mean_ce (pack W w z) =
  / INR B * sumn B (fun i => ln (sum_list (map (fun k => exp (z (i * Nb + k)%nat)) lsb)) -
                             sum_list (map (fun k => y i k * z (i * Nb + k)%nat) lsb)).
Proof.
  unfold mean_ce; cbn [c1_g c1_scal]; rewrite c1_sum_g; f_equal.
  apply sumn_ext; intros i Hi; apply ce_copy_value, Hi.
Qed.

(* dL/dw = 0 *)
Theorem mean_ce_dw (w z : vec) (p : nat) : (p < W)%nat -> c1_dg mean_ce (pack W w z) p = 0.
Proof.
  intros Hp; unfold mean_ce; cbn [c1_dg c1_scal]; unfold vscale; rewrite c1_sum_dg.
  rewrite (sumn_ext B _ (fun _ => 0)); [unfold sumn; rewrite sum_list_map_zero by reflexivity; ring|].
  intros i Hi; unfold ce_copy; destruct (lt_dec i B); [apply ce_output_dw, Hp | reflexivity].
Qed.

(* dL/dz_(i Nb + k) = (softmax_k of copy i - y_i(k)) / B *)
Theorem mean_ce_dz (w z : vec) (i k : nat) : NoDup lsb -> (i < B)%nat -> In k lsb ->
  c1_dg mean_ce (pack W w z) (W + (i * Nb + k))%nat =
  / INR B * (exp (z (i * Nb + k)%nat) / sum_list (map (fun k' => exp (z (i * Nb + k')%nat)) lsb) - y i k).
Proof.
  intros Hnd Hi Hk; unfold mean_ce; cbn [c1_dg c1_scal]; unfold vscale; rewrite c1_sum_dg; f_equal.
  assert (Hkb := Hlt k Hk).
  rewrite (sumn_ext B _ (fun i' => (exp (z (i * Nb + k)%nat) / sum_list (map (fun k' => exp (z (i * Nb + k')%nat)) lsb) - y i k) *
                                   (if Nat.eq_dec i i' then 1 else 0))).
  { apply sumn_indicator_l with (f := fun _ => _), Hi. }
  intros i' Hi'; unfold ce_copy; destruct (lt_dec i' B) as [Hi''|]; [|lia].
  destruct (Nat.eq_dec i i') as [<-|Hne].
  - rewrite ce_output_dz.
    + unfold copy_logits; rewrite map_map; replace (i * Nb + k - i * Nb)%nat with k by lia; ring.
    + unfold copy_logits; apply NoDup_map_shift, Hnd.
    + apply in_map, Hk.
  - rewrite ce_output_dz_other; [ring|].
    unfold copy_logits; intros Hin; apply in_map_iff in Hin as [k' [E Hk']].
    specialize (Hlt k' Hk'); apply Hne.
    destruct (Nat.lt_trichotomy i i') as [Hlt'|[Heq|Hlt']]; [exfalso; nia | exact Heq | exfalso; nia].
Qed.

End MeanCE.

(** * Mean squared error *)

Section SqErr.
Variables (W N q : nat) (t : R).
Hypothesis Hq : (q < W + N)%nat.

(* (u_q - t)^2 on R^(W+N), gradient 2 (u_q - t) e_q *)
Definition sq_g (u : vec) : R := (u q - t) * (u q - t).
Definition sq_dg (u : vec) : vec := fun i => 2 * (u q - t) * unit_vec q i.

Lemma sq_diff (u : vec) : differentiable_at (W + N) sq_g u (sq_dg u).
Proof.
  assert (Hm := differentiable_at_minus (W + N) (fun v => v q) (fun _ => t) u (unit_vec q) vzero
                  (differentiable_at_coord _ q u Hq) (differentiable_at_const _ t u)).
  assert (H := differentiable_at_mult _ _ _ u _ _ Hm Hm).
  apply (differentiable_at_ext _ _ sq_g) in H; [|intros v; reflexivity].
  eapply differentiable_at_grad_ext; [|exact H].
  intros i _; unfold sq_dg, vadd, vscale, vzero; cbv beta; ring.
Qed.

Lemma sq_cont (u : vec) (i : nat) : continuous_at (W + N) (fun u' => sq_dg u' i) u.
Proof.
  apply (continuous_at_ext _ (fun v => (2 * (v q + - t)) * unit_vec q i)); [intros v; unfold sq_dg; ring|].
  apply (continuous_at_mult _ (fun v => 2 * (v q + - t)) (fun _ => unit_vec q i)); [|apply continuous_at_const].
  apply (continuous_at_mult _ (fun _ => 2) (fun v => v q + - t)); [apply continuous_at_const|].
  apply (continuous_at_plus _ (fun v => v q) (fun _ => - t)); [apply continuous_at_coord, Hq | apply continuous_at_const].
Qed.

Definition sq_output : c1_output W N := mk_c1_output W N sq_g sq_dg sq_diff sq_cont.

End SqErr.

Section MeanMSE.
(* output neuron o of the base network, targets t_i *)
Variables (W Nb B o : nat) (t : nat -> R).
Hypothesis Ho : (o < Nb)%nat.

Lemma mse_coord_lt (i : nat) : (i < B)%nat -> (W + (i * Nb + o) < W + B * Nb)%nat.
Proof. intros Hi; nia. Qed.

Definition mse_copy (i : nat) : c1_output W (B * Nb) :=
  match lt_dec i B with
  | left Hi => sq_output W (B * Nb) (W + (i * Nb + o)) (t i) (mse_coord_lt i Hi)
  | right _ => c1_zero W (B * Nb)
  end.

Definition mean_mse : c1_output W (B * Nb) := c1_scal W (B * Nb) (/ INR B) (c1_sum W (B * Nb) B mse_copy).

(* L = (1/B) sum_i (z_(i Nb + o) - t_i)^2 *)
Theorem mean_mse_value (w z : vec) :
  c1_g mean_mse (pack W w z) = / INR B * sumn B (fun i => (z (i * Nb + o)%nat - t i) * (z (i * Nb + o)%nat - t i)).
Proof.
  unfold mean_mse; cbn [c1_g c1_scal]; rewrite c1_sum_g; f_equal.
  apply sumn_ext; intros i Hi; unfold mse_copy; destruct (lt_dec i B); [|lia].
  cbn [c1_g sq_output]; unfold sq_g; rewrite pack_ge; reflexivity.
Qed.

Theorem mean_mse_dw (w z : vec) (p : nat) : (p < W)%nat -> c1_dg mean_mse (pack W w z) p = 0.
Proof.
  intros Hp; unfold mean_mse; cbn [c1_dg c1_scal]; unfold vscale; rewrite c1_sum_dg.
  rewrite (sumn_ext B _ (fun _ => 0)); [unfold sumn; rewrite sum_list_map_zero by reflexivity; ring|].
  intros i Hi; unfold mse_copy; destruct (lt_dec i B); [|reflexivity].
  cbn [c1_dg sq_output]; unfold sq_dg, unit_vec; destruct (Nat.eq_dec p (W + (i * Nb + o))); [lia | ring].
Qed.

(* dL/dz_(i Nb + o) = 2 (z_(i Nb + o) - t_i) / B *)
Theorem mean_mse_dz (w z : vec) (i : nat) : (i < B)%nat ->
  c1_dg mean_mse (pack W w z) (W + (i * Nb + o))%nat = / INR B * (2 * (z (i * Nb + o)%nat - t i)).
Proof.
  intros Hi; unfold mean_mse; cbn [c1_dg c1_scal]; unfold vscale; rewrite c1_sum_dg; f_equal.
  rewrite (sumn_ext B _ (fun i' => 2 * (z (i * Nb + o)%nat - t i) * (if Nat.eq_dec i i' then 1 else 0))).
  { apply sumn_indicator_l with (f := fun _ => _), Hi. }
  intros i' Hi'; unfold mse_copy; destruct (lt_dec i' B); [|lia].
  cbn [c1_dg sq_output]; unfold sq_dg, unit_vec; rewrite pack_ge.
  destruct (Nat.eq_dec i i') as [<-|Hne].
  - destruct (Nat.eq_dec (W + (i * Nb + o)) (W + (i * Nb + o))); [ring | congruence].
  - destruct (Nat.eq_dec (W + (i * Nb + o)) (W + (i' * Nb + o))) as [E|]; [|ring].
    exfalso; apply Hne; assert (E' : (i * Nb = i' * Nb)%nat) by lia.
    destruct (Nat.lt_trichotomy i i') as [Hl|[Heq|Hl]]; [nia | exact Heq | nia].
Qed.

End MeanMSE.
