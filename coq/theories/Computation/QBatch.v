(* A computable exact test and exact counts for batched networks (THEORY.md
   section 8.1, T6_differentiable_iff_groups in the one-group case, and
   section 4's ndf_M / inc_M; issue 18, item 5).
   Class: the batched networks of T6Tight.v, one base neuron y = b + x with
   an activation of QAct.v, a batch of B rational scalar inputs x_i and the
   sum loss L(w) = sum_i sigma(w_0 + x_i): examples/t6-hardtanh.json with
   examples/t6-hardtanh-batch.npz (loss "sum"), and equally a one-channel
   1-d convolution with a bias and a frozen kernel (the copies are the
   positions, x_i the kernel applied to window i).  Every copy has the
   tangent linear form e_0, so the kinked copies form one group: L is
   differentiable at w iff their slope jumps cancel,
   sum_i (sigma'_+ - sigma'_-)(w_0 + x_i) = 0 (T6Tight.bt_ndf_iff).
   Over Q: [qbt_jump] and [qbt_differentiable], equal to the real
   differentiability ([computable_batch_differentiable_iff]).  AD with a
   choice D (the same for every copy) is sum_i D sigma(w_0 + x_i) in
   coordinate 0 and 0 elsewhere, so [qbt_inc] decides the points where L is
   differentiable and AD is not its gradient; [qbt_tally] counts both over
   M^W, equal to ndf_count and inc_count ([qbt_tally_correct]). *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Counting C1Output Batch T6Tight.
From ADCorrect Require Import QAct QNet QDecide.
Import ListNotations.

(** * Definitions *)

Open Scope Q_scope.

Definition qsum (l : list Q) : Q := fold_right Qplus 0 l.

(* sigma'_+(c) - sigma'_-(c) *)
Definition qjump (a : qact) (c : Q) : Q := qslope_right a c - qslope_left a c.

(* the total jump at b: sum_i (sigma'_+ - sigma'_-)(b + x_i) *)
Definition qbt_jump (a : qact) (xs : list Q) (b : Q) : Q :=
  qsum (map (fun i => qjump a (b + nth i xs 0)) (seq 0 (length xs))).

(* the exact test: L is differentiable at w iff qbt_differentiable (w_0) *)
Definition qbt_differentiable (a : qact) (xs : list Q) (b : Q) : bool :=
  Qeq_bool (qbt_jump a xs b) 0.

(* AD's coordinate 0 and the derivative there *)
Definition qbt_ad0 (a : qact) (d : Q) (xs : list Q) (b : Q) : Q :=
  qsum (map (fun i => qderiv a d (b + nth i xs 0)) (seq 0 (length xs))).
Definition qbt_grad0 (a : qact) (xs : list Q) (b : Q) : Q :=
  qsum (map (fun i => qslope_right a (b + nth i xs 0)) (seq 0 (length xs))).

(* differentiable, and AD with the choice d is not the gradient *)
Definition qbt_inc (a : qact) (d : Q) (xs : list Q) (b : Q) : bool :=
  qbt_differentiable a xs b && negb (Qeq_bool (qbt_ad0 a d xs b) (qbt_grad0 a xs b)).

(* (ndf, inc) over M^W, divided by |M|^(W-1): they depend on w_0 only *)
Definition qbt_tally (a : qact) (d : Q) (xs M : list Q) : nat * nat :=
  (length (filter (fun b => negb (qbt_differentiable a xs b)) M),
   length (filter (qbt_inc a d xs) M)).

Close Scope Q_scope.
Open Scope R_scope.

(* the batch x_i as reals, and the network of T6Tight.v *)
Definition qxs (xs : list Q) : nat -> R := fun i => Q2R (nth i xs 0%Q).

Definition qbt_network (a : qact) (W : nat) (xs : list Q) : network :=
  bt_poly (act_of a) W (length xs) (qxs xs).

(* the same choice d at every copy *)
Definition qbt_choice (d : Q) : nat -> R := fun _ => Q2R d.

(** * The family as a network: pre-activations, AD *)

Section Real.
Variables (a : activation) (W B : nat) (x : nat -> R).
Hypothesis HW : (1 <= W)%nat.
Let bn := bt_poly a W B x.

Lemma bt_size : n_size bn = B.
Proof.
  change (n_size bn) with (n_size (batch_neurons (bt_base a W) B (bt_xs x))).
  rewrite batch_size; unfold n_size; simpl; lia.
Qed.

Lemma bt_tau (k : nat) : (k < B)%nat -> tau bn k = EAdd (EParam 0) (EConst (x k)).
Proof.
  intros Hk; change (tau bn k) with (tau (batch_neurons (bt_base a W) B (bt_xs x)) k).
  replace k with (k * 1 + 0)%nat at 1 by lia.
  rewrite batch_tau by (exact Hk || (unfold n_size; simpl; lia)); reflexivity.
Qed.

Lemma bt_sigma (k : nat) : (k < B)%nat -> sigma bn k = a.
Proof.
  intros Hk; change (sigma bn k) with (sigma (batch_neurons (bt_base a W) B (bt_xs x)) k).
  replace k with (k * 1 + 0)%nat at 1 by lia.
  rewrite batch_sigma by (exact Hk || (unfold n_size; simpl; lia)); reflexivity.
Qed.

Lemma bt_preact (w : vec) (k : nat) : (k < B)%nat -> preact bn w k = w 0%nat + x k.
Proof.
  intros Hk; unfold bn, bt_poly; rewrite preact_with_out.
  replace k with (k * 1 + 0)%nat at 1 by lia.
  rewrite batch_preact by (exact (bt_base_wf a W HW) || exact Hk || (unfold n_size; simpl; lia)).
  reflexivity.
Qed.

Lemma bt_zbar (D : nat -> R) (w : vec) (k : nat) : (k < B)%nat -> zbar bn D w k = 1.
Proof.
  intros Hk; rewrite zbar_eq, bt_size.
  change (n_out bn) with (lin_out (fun _ : nat => 1) B).
  rewrite eval_dneuron_lin_out by exact Hk.
  rewrite sum_list_map_zero; [ring|]; intros j Hj; apply in_seq in Hj.
  rewrite dneuron_not_occurs; [ring|].
  rewrite bt_tau by lia; simpl; tauto.
Qed.

Lemma bt_ad (D : nat -> R) (w : vec) (p : nat) :
  ad bn D w p = if Nat.eq_dec p 0 then sumn B (fun i => act_deriv_choice a (D i) (w 0%nat + x i)) else 0.
Proof.
  rewrite ad_eq, bt_size; change (n_out bn) with (lin_out (fun _ : nat => 1) B).
  rewrite eval_dparam_lin_out, Rplus_0_l.
  destruct (Nat.eq_dec p 0) as [->|Hp].
  - apply sumn_ext; intros i Hi.
    rewrite ybar_eq, bt_zbar by (rewrite ?bt_size; exact Hi).
    unfold dchoice; rewrite bt_tau, bt_sigma, bt_preact by exact Hi; simpl.
    destruct (Nat.eq_dec 0 0); [ring | congruence].
  - apply sum_list_map_zero; intros i Hi; apply in_seq in Hi.
    rewrite bt_tau by lia; destruct p as [|p]; [congruence|]; simpl; ring.
Qed.

Lemma bt_poly_phi (v : vec) :
  net_eval bn v = (fun t => sumn B (fun i => act_eval a (t + x i))) (v 0%nat).
Proof. apply (bt_poly_eval a W B x HW). Qed.

Lemma bt_poly_ndf_iff (w : vec) :
  ~ differentiable W (net_eval bn) w <-> bt_jump a B x (w 0%nat) <> 0.
Proof.
  rewrite <- (bt_ndf_iff a B x W w HW).
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply bt_poly_phi.
Qed.

(* L differentiable with gradient g, and AD differs from g somewhere *)
Lemma bt_poly_inc_iff (D : nat -> R) (w : vec) :
  (exists g, differentiable_at W (net_eval bn) w g /\ exists p, (p < W)%nat /\ ad bn D w p <> g p) <->
  bt_jump a B x (w 0%nat) = 0 /\
  sumn B (fun i => act_deriv_choice a (D i) (w 0%nat + x i)) <> sumn B (fun i => slope_right a (w 0%nat + x i)).
Proof.
  set (G := vscale (sumn B (fun i => slope_right a (w 0%nat + x i))) (unit_vec 0)).
  assert (HG : bt_jump a B x (w 0%nat) = 0 -> differentiable_at W (net_eval bn) w G).
  { intros Hj; eapply differentiable_at_ext; [intros v; apply bt_poly_phi|].
    exact (bt_diff_at a B x W w HW Hj). }
  split.
  - intros [g [Hg [p [Hp Hne]]]].
    assert (Hj : bt_jump a B x (w 0%nat) = 0).
    { destruct (Req_dec (bt_jump a B x (w 0%nat)) 0) as [E|E]; [exact E|].
      exfalso; apply (proj2 (bt_poly_ndf_iff w) E); exists g; exact Hg. }
    split; [exact Hj|]; intros Heq; apply Hne.
    rewrite <- (differentiable_at_unique _ _ _ _ _ (HG Hj) Hg p Hp).
    rewrite bt_ad; unfold G, vscale, unit_vec.
    destruct (Nat.eq_dec p 0); [rewrite Heq; ring | ring].
  - intros [Hj Hne]; exists G; split; [exact (HG Hj)|]; exists 0%nat; split; [lia|].
    rewrite bt_ad; unfold G, vscale, unit_vec; simpl.
    intros E; apply Hne; rewrite E; ring.
Qed.

End Real.

(** * The computable versions equal the real ones *)

Lemma Q2R_qsum_map {A : Type} (f : A -> Q) (l : list A) :
  Q2R (qsum (map f l)) = sum_list (map (fun i => Q2R (f i)) l).
Proof.
  induction l as [|y l IH]; unfold qsum, sum_list in *; simpl; [apply Q2R_0|].
  rewrite Q2R_plus, IH; reflexivity.
Qed.

Lemma qbt_jump_correct (a : qact) (xs : list Q) (b : Q) :
  bt_jump (act_of a) (length xs) (qxs xs) (Q2R b) = Q2R (qbt_jump a xs b).
Proof.
  unfold qbt_jump; rewrite Q2R_qsum_map; unfold bt_jump, sumn; f_equal; apply map_ext; intros i.
  unfold jump, qjump, qxs; rewrite Q2R_minus, <- Q2R_plus, qslope_left_correct, qslope_right_correct.
  reflexivity.
Qed.

Lemma qbt_ad0_correct (a : qact) (d : Q) (xs : list Q) (b : Q) :
  sumn (length xs) (fun i => act_deriv_choice (act_of a) (qbt_choice d i) (Q2R b + qxs xs i)) =
  Q2R (qbt_ad0 a d xs b).
Proof.
  unfold qbt_ad0; rewrite Q2R_qsum_map; unfold sumn; f_equal; apply map_ext; intros i.
  unfold qbt_choice, qxs; rewrite <- Q2R_plus; apply qderiv_correct.
Qed.

Lemma qbt_grad0_correct (a : qact) (xs : list Q) (b : Q) :
  sumn (length xs) (fun i => slope_right (act_of a) (Q2R b + qxs xs i)) = Q2R (qbt_grad0 a xs b).
Proof.
  unfold qbt_grad0; rewrite Q2R_qsum_map; unfold sumn; f_equal; apply map_ext; intros i.
  unfold qxs; rewrite <- Q2R_plus; apply qslope_right_correct.
Qed.

(* the computable test is the real differentiability, at every rational point *)
Theorem computable_batch_differentiable_iff (a : qact) (W : nat) (xs u : list Q) :
  (1 <= W)%nat ->
  (differentiable W (net_eval (qbt_network a W xs)) (qpoint u) <->
   qbt_differentiable a xs (nth 0 u 0%Q) = true).
Proof.
  intros HW; unfold qbt_differentiable.
  assert (H0 : qpoint u 0%nat = Q2R (nth 0 u 0%Q)) by (unfold qpoint, word_vec; apply nth_map_Q2R).
  generalize (bt_poly_ndf_iff (act_of a) W (length xs) (qxs xs) HW (qpoint u)).
  rewrite H0, qbt_jump_correct; fold (qbt_network a W xs); intros H.
  destruct (Qeq_bool (qbt_jump a xs (nth 0 u 0%Q)) 0) eqn:E.
  - apply Qeq_bool_iff in E; split; [reflexivity|]; intros _.
    apply Classical_Prop.NNPP; intros Hnd; apply H in Hnd; apply Hnd.
    rewrite E; apply Q2R_0.
  - split; [|discriminate]; intros Hd; exfalso.
    apply (proj2 H); [|exact Hd].
    rewrite <- Q2R_0; intros E'; apply Q2R_eq_b in E'; congruence.
Qed.

Lemma qbt_inc_correct (a : qact) (d : Q) (W : nat) (xs u : list Q) :
  (1 <= W)%nat ->
  ((exists g, differentiable_at W (net_eval (qbt_network a W xs)) (qpoint u) g /\
      exists p, (p < W)%nat /\ ad (qbt_network a W xs) (qbt_choice d) (qpoint u) p <> g p) <->
   qbt_inc a d xs (nth 0 u 0%Q) = true).
Proof.
  intros HW; unfold qbt_network; rewrite (bt_poly_inc_iff (act_of a) W (length xs) (qxs xs) HW).
  assert (H0 : qpoint u 0%nat = Q2R (nth 0 u 0%Q)) by (unfold qpoint, word_vec; apply nth_map_Q2R).
  rewrite H0, qbt_jump_correct, qbt_ad0_correct, qbt_grad0_correct.
  unfold qbt_inc, qbt_differentiable; rewrite Bool.andb_true_iff, Bool.negb_true_iff.
  rewrite <- Q2R_0, <- Q2R_eq_b, <- Q2R_neq_b; tauto.
Qed.

(** * Counting by computation *)

Lemma count_word_first (M : list R) (W : nat) (P : R -> Prop) (Q' : list R -> Prop) :
  (1 <= W)%nat -> (forall u, Q' u <-> P (word_vec u 0%nat)) ->
  count Q' (words M W) = (count P M * length M ^ (W - 1))%nat.
Proof.
  intros HW H; rewrite <- count_first_letter by exact HW.
  apply count_ext; intros u _; apply H.
Qed.

Theorem qbt_tally_correct (a : qact) (d : Q) (W : nat) (xs M : list Q) (n i : nat) :
  (1 <= W)%nat -> qbt_tally a d xs M = (n, i) ->
  ndf_count (qbt_network a W xs) (map Q2R M) = (n * length M ^ (W - 1))%nat /\
  inc_count (qbt_network a W xs) (qbt_choice d) (map Q2R M) = (i * length M ^ (W - 1))%nat.
Proof.
  intros HW Ht; unfold qbt_tally in Ht; injection Ht as <- <-.
  unfold ndf_count, inc_count; change (n_params (qbt_network a W xs)) with W.
  rewrite <- (map_length Q2R M); split.
  - rewrite (count_word_first _ W (fun b => bt_jump (act_of a) (length xs) (qxs xs) b <> 0)) by
      (exact HW || (intros u; apply bt_poly_ndf_iff; exact HW)).
    f_equal; rewrite count_map; apply count_filter; intros b _.
    rewrite qbt_jump_correct, Bool.negb_true_iff; unfold qbt_differentiable.
    rewrite <- Q2R_0, Q2R_neq_b; tauto.
  - rewrite (count_word_first _ W (fun b => bt_jump (act_of a) (length xs) (qxs xs) b = 0 /\
       sumn (length xs) (fun i => act_deriv_choice (act_of a) (qbt_choice d i) (b + qxs xs i)) <>
       sumn (length xs) (fun i => slope_right (act_of a) (b + qxs xs i)))) by
      (exact HW || (intros u; apply bt_poly_inc_iff; exact HW)).
    f_equal; rewrite count_map; apply count_filter; intros b _.
    rewrite qbt_jump_correct, qbt_ad0_correct, qbt_grad0_correct.
    unfold qbt_inc, qbt_differentiable; rewrite Bool.andb_true_iff, Bool.negb_true_iff.
    rewrite <- Q2R_0, <- Q2R_eq_b, <- Q2R_neq_b; tauto.
Qed.
