(* Mean losses of a batch as C1 outputs of the batched network (THEORY.md
   section 8.1, "combined by a loss l that is C1 in the outputs"; issue 18,
   item 4).  Copy i of base neuron k is neuron i * Nb + k of the batched
   network (Batch.v); the mean cross-entropy over B copies, each with logits
   the copies of the base neurons lsb and targets y_i, is
     (1/B) sum_(i<B) [ ln sum_(k in lsb) e^(z_(i Nb + k)) - sum_k y_i(k) z_(i Nb + k) ],
   a C1 output built from C1Losses.v's ce_output, c1_plus and c1_scal; its
   value and its partial derivatives (softmax minus target, over B; 0 in the
   parameters) are proved.  The mean MSE is not done here (see the report). *)
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
