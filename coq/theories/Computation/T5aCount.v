(* The points of the T5(a) network that T5(b) and T5(c) leave open
   (THEORY.md section 5, T5(a); issue 10, item 9).  The network of
   examples/t5a.json computes f(a, v_1, v_2) = relu(v_1 a) - relu(v_2 a).
   Where a <> 0 or NS fails, QDecide.v's classifier decides by T5(b)/T5(c);
   at a = 0 no kink neuron is perturbable (the exclusive parameters v_1,
   v_2 have coefficient a = 0), and we prove directly, for all reals:
   f is differentiable at (0, v_1, v_2) iff |v_1| = |v_2|, and then its
   gradient is (relu v_1 - relu v_2, 0, 0).  This is the fallback
   [t5a_fallback] with which Certified.v counts ndf and inc exactly. *)
From Coq Require Import Reals QArith Qreals Lra Lia List.
From ADCorrect Require Import Vec Frechet OneSided Activation Network AD Counting NoKink.
From ADCorrect Require Import QAct QNet QAD QDecide QSpec Examples.
Import ListNotations.
Open Scope R_scope.

(** * The network in closed form *)

Definition t5a_f (w : vec) : R := Rmax 0 (w 1%nat * w 0%nat) - Rmax 0 (w 2%nat * w 0%nat).

Definition t5a_qnet : qnet := Eval vm_compute in spec_qnet spec_t5a.

Lemma spec_qnet_t5a : spec_qnet spec_t5a = t5a_qnet.
Proof. vm_compute; reflexivity. Qed.

Lemma Q2R_m1 : Q2R (-1) = -1.
Proof. unfold Q2R; simpl; field. Qed.

Lemma net_t5a_eval (w : vec) : net_eval net_t5a w = t5a_f w.
Proof.
  unfold net_t5a, spec_network; rewrite spec_qnet_t5a.
  unfold net_eval, zvec, t5a_f.
  Opaque act_eval. simpl. Transparent act_eval.
  rewrite !relu_eval, !act_id_eval, !Q2R_0, !Q2R_1, Q2R_m1.
  replace (w 1%nat * (w 0%nat * 1 + 0) + 0) with (w 1%nat * w 0%nat) by ring.
  replace (w 2%nat * (w 0%nat * 1 + 0) + 0) with (w 2%nat * w 0%nat) by ring.
  ring.
Qed.

(** * Real analysis at a = 0 *)

Lemma relu_lipschitz (x y : R) : Rabs (Rmax 0 x - Rmax 0 y) <= Rabs (x - y).
Proof. unfold Rmax; repeat destruct Rle_dec; split_Rabs; lra. Qed.

(* relu(p t) - relu(q t) is linear in t when |p| = |q| *)
Lemma relu_diff_linear (p q t : R) :
  p = q \/ p = - q -> Rmax 0 (p * t) - Rmax 0 (q * t) = (Rmax 0 p - Rmax 0 q) * t.
Proof.
  assert (Hodd : forall x, Rmax 0 x - Rmax 0 (- x) = x)
    by (intros x; unfold Rmax; repeat destruct Rle_dec; lra).
  intros [->| ->]; [ring|].
  replace (q * t) with (- (- q * t)) by ring; rewrite Hodd.
  replace q with (- - q) at 3 by ring; rewrite Hodd; ring.
Qed.

Theorem t5a_f_differentiable (w g : vec) :
  w 0%nat = 0 -> w 1%nat = w 2%nat \/ w 1%nat = - w 2%nat ->
  g 0%nat = Rmax 0 (w 1%nat) - Rmax 0 (w 2%nat) -> g 1%nat = 0 -> g 2%nat = 0 ->
  differentiable_at 3 t5a_f w g.
Proof.
  intros H0 Hpq Hg0 Hg1 Hg2 eps Heps.
  exists (Rmin 1 (eps / 2)); split; [apply Rmin_glb_lt; lra|]; intros h _ Hn.
  generalize (Rmin_r 1 (eps / 2)); intros Hm.
  assert (N0 : Rabs (h 0%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (N1 : Rabs (h 1%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (N2 : Rabs (h 2%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  unfold dot, t5a_f, vadd; simpl; rewrite Hg0, Hg1, Hg2, H0.
  set (p := w 1%nat); set (q := w 2%nat); fold p q in Hpq.
  replace (p * 0) with 0 by ring; replace (q * 0) with 0 by ring.
  replace (0 + h 0%nat) with (h 0%nat) by ring.
  set (N := norm_max 3 h); set (x := h 0%nat); fold N in N0, N1, N2, Hn.
  pose proof (relu_diff_linear p q x Hpq) as L.
  pose proof (relu_lipschitz ((p + h 1%nat) * x) (p * x)) as R1.
  pose proof (relu_lipschitz ((q + h 2%nat) * x) (q * x)) as R2.
  replace ((p + h 1%nat) * x - p * x) with (h 1%nat * x) in R1 by ring.
  replace ((q + h 2%nat) * x - q * x) with (h 2%nat * x) in R2 by ring.
  rewrite Rabs_mult in R1, R2.
  assert (B1 : Rabs (h 1%nat) * Rabs x <= N * N) by (apply Rmult_le_compat; auto using Rabs_pos).
  assert (B2 : Rabs (h 2%nat) * Rabs x <= N * N) by (apply Rmult_le_compat; auto using Rabs_pos).
  assert (HN : 0 <= N) by apply norm_max_nonneg.
  assert (HNN : N * N <= eps / 2 * N) by (apply Rmult_le_compat_r; lra).
  unfold Rmax at 3 4; destruct (Rle_dec 0 0); [|lra].
  revert R1 R2 L; generalize (Rmax 0 ((p + h 1%nat) * x)) (Rmax 0 (p * x))
    (Rmax 0 ((q + h 2%nat) * x)) (Rmax 0 (q * x)); intros a b c d R1 R2 L.
  split_Rabs; nra.
Qed.

Theorem t5a_f_not_differentiable (w : vec) :
  w 0%nat = 0 -> w 1%nat <> w 2%nat -> w 1%nat <> - w 2%nat ->
  ~ differentiable 3 t5a_f w.
Proof.
  intros H0 Hne1 Hne2.
  set (p := w 1%nat) in *; set (q := w 2%nat) in *.
  assert (Hline : forall t, t5a_f (upd w 0 (w 0%nat + t)) = Rmax 0 (p * t) - Rmax 0 (q * t)).
  { intros t; unfold t5a_f, upd; simpl; rewrite H0; fold p q; f_equal; f_equal; ring. }
  apply (one_sided_differ_not_differentiable 3 t5a_f w 0 (Rmax 0 p - Rmax 0 q)
           (Rmax 0 (- q) - Rmax 0 (- p))); [lia| | |].
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !Hline, Rplus_0_l, !Rmult_0_r.
    replace ((Rmax 0 (p * t) - Rmax 0 (q * t) - (Rmax 0 0 - Rmax 0 0)) / t - (Rmax 0 p - Rmax 0 q))
      with 0; [rewrite Rabs_R0; exact Heps|].
    unfold Rmax; repeat destruct Rle_dec; field_simplify; try lra; nra.
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !Hline, Rplus_0_l, !Rmult_0_r.
    replace ((Rmax 0 (p * t) - Rmax 0 (q * t) - (Rmax 0 0 - Rmax 0 0)) / t -
             (Rmax 0 (- q) - Rmax 0 (- p))) with 0; [rewrite Rabs_R0; exact Heps|].
    unfold Rmax; repeat destruct Rle_dec; field_simplify; try lra; nra.
  - unfold Rmax; repeat destruct Rle_dec; lra.
Qed.

(* at a = 0, for all reals: differentiable iff |v_1| = |v_2| *)
Theorem t5a_differentiable_a0_iff (w : vec) : w 0%nat = 0 ->
  (differentiable 3 (net_eval net_t5a) w <-> Rabs (w 1%nat) = Rabs (w 2%nat)).
Proof.
  intros H0; split.
  - intros Hd.
    destruct (Req_dec (w 1%nat) (w 2%nat)) as [E|E1]; [rewrite E; reflexivity|].
    destruct (Req_dec (w 1%nat) (- w 2%nat)) as [E|E2]; [rewrite E, Rabs_Ropp; reflexivity|].
    exfalso; apply (t5a_f_not_differentiable w H0 E1 E2).
    exact (differentiable_ext _ _ _ _ (fun v => eq_sym (net_t5a_eval v)) Hd).
  - intros Habs.
    exists (fun i => match i with O => Rmax 0 (w 1%nat) - Rmax 0 (w 2%nat) | _ => 0 end).
    apply (differentiable_at_ext _ t5a_f); [exact net_t5a_eval|].
    apply t5a_f_differentiable; try reflexivity; [exact H0|].
    revert Habs; unfold Rabs; destruct Rcase_abs, Rcase_abs; intros; [left|right|right|left]; lra.
Qed.

(** * The fallback, and its soundness *)

Open Scope Q_scope.

Definition t5a_fallback (u : list Q) : status :=
  match u with
  | [a; v1; v2] =>
      if Qeq_bool a 0 then
        if Qeq_bool v1 v2 || Qeq_bool v1 (- v2)
        then Diff [qact_eval QRelu v1 - qact_eval QRelu v2; 0; 0]
        else NotDiff
      else Unknown
  | _ => Unknown
  end.

Close Scope Q_scope.

Lemma net_t5a_params : n_params net_t5a = 3%nat.
Proof. reflexivity. Qed.

Theorem t5a_fallback_sound (dq : list Q) : fallback_sound (spec_qnet spec_t5a) dq t5a_fallback.
Proof.
  intros u; unfold t5a_fallback.
  destruct u as [|a [|v1 [|v2 [|x u]]]]; try exact I.
  destruct (Qeq_bool a 0) eqn:Ea; [|exact I].
  apply Q2R_eq_b in Ea; rewrite Q2R_0 in Ea.
  assert (Hw0 : qpoint [a; v1; v2] 0%nat = 0) by (rewrite qpoint_nth; exact Ea).
  assert (Hw1 : qpoint [a; v1; v2] 1%nat = Q2R v1) by (rewrite qpoint_nth; reflexivity).
  assert (Hw2 : qpoint [a; v1; v2] 2%nat = Q2R v2) by (rewrite qpoint_nth; reflexivity).
  unfold status_sound; change (to_network (spec_qnet spec_t5a)) with net_t5a.
  rewrite net_t5a_params.
  destruct (Qeq_bool v1 v2 || Qeq_bool v1 (- v2))%Q eqn:E.
  - apply (differentiable_at_ext _ t5a_f); [exact net_t5a_eval|].
    apply t5a_f_differentiable; [exact Hw0 | | | |].
    + rewrite Hw1, Hw2, <- Q2R_opp; apply Bool.orb_true_iff in E.
      destruct E as [E|E]; apply Q2R_eq_b in E; auto.
    + rewrite qpoint_nth, Hw1, Hw2; simpl nth.
      rewrite Q2R_minus, <- !qact_eval_correct; simpl act_of; rewrite !relu_eval; reflexivity.
    + rewrite qpoint_nth; apply Q2R_0.
    + rewrite qpoint_nth; apply Q2R_0.
  - intros Hd; apply (t5a_f_not_differentiable (qpoint [a; v1; v2])); [exact Hw0 | | |].
    + rewrite Hw1, Hw2; intros H; apply Q2R_eq_b in H; rewrite H in E; discriminate.
    + rewrite Hw1, Hw2, <- Q2R_opp; intros H; apply Q2R_eq_b in H.
      rewrite H, Bool.orb_true_r in E; discriminate.
    + exact (differentiable_ext _ _ _ _ (fun v => eq_sym (net_t5a_eval v)) Hd).
Qed.
