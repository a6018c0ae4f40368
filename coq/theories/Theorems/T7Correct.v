(* T7 (THEORY.md section 8.1, "Tied networks"; issue 18, item 1): for
   tied-bias networks (Tied.v) with a C1 output and a choice that is
   theta-uniform per class (D at a kinked neuron c of class K is
   sigma'_-(y_c) + theta_K (sigma'_+(y_c) - sigma'_-(y_c)), one theta_K for
   all kinks of all neurons of K), AD is the gradient wherever the output is
   differentiable; and |ndf_M| <= n |M|^(W-1) with n the number of kinks
   summed over the neurons.
   Chain (as T6Correct.v): L is differentiable at w iff net_lin is; then its
   tangent network phi_w is linear with the same gradient (Tangent.v); the
   tangent network of a tied-bias network is a tied tangent network (this
   file: base = cls, the class biases as direction coordinates); so the
   tangent network with the choice slopes, whose coordinates are AD, is
   linear with that gradient (T7Tangent.v).
   Count: the bias of the class of a kinked neuron c shifts y_c by exactly
   its own change (the classes below do not move), so T2's fibre argument
   applies to every kinked neuron. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKink Counting T2 T3 C1Output
  Tangent T6Tangent T7Tangent Tied.
Import ListNotations.
Open Scope R_scope.

(** * A coefficient-1 parameter has symbolic derivative 1 *)

Lemma affine_dparam_one (x : nat -> R) (e r : expr) (p : nat) :
  ~ occurs_param p r -> (forall w z, eval x w z e = w p + eval x w z r) ->
  forall w z, eval x w z (dparam p e) = 1.
Proof.
  intros Hr Heq w z.
  assert (H1 := eval_dparam_is_derive x w z e p (w p)); rewrite Vec.upd_id in H1.
  assert (H2 : is_derive (fun t => eval x (upd w p t) z e) (w p) 1).
  { apply (is_derive_ext (fun t => t + eval x w z r)).
    - intros t; rewrite Heq, eval_upd_not_occurs by exact Hr; rewrite Vec.upd_same; reflexivity.
    - auto_derive; [exact I | ring]. }
  rewrite <- (is_derive_unique _ _ _ H1); exact (is_derive_unique _ _ _ H2).
Qed.

(** * The tangent network of a tied-bias network *)

Section TiedTangentOf.
Variables (net : network) (cls bias : nat -> nat) (w : vec).
Hypothesis Hwf : wf net.
Hypothesis Htied : tied_bias net cls bias.
Let T := tnet_of net w.

Theorem tnet_of_tied : tied_tnet cls bias T.
Proof.
  destruct Htied as [Hord Hb].
  split; [|split].
  - intros c j Hc Hj; cbn [t_B T tnet_of]; apply dz_coef_above; assumption.
  - intros c' Hc' Hk; cbn [t_N t_W t_A t_sl t_sr T tnet_of] in Hc', Hk |- *.
    destruct (Hb c' Hc' (slopes_differ_kinks_nonempty _ _ Hk)) as [Hp Hcl]; split; [exact Hp|].
    intros c Hc; destruct (Hcl c Hc) as [Hin Hout]; unfold dw_coef.
    destruct (Nat.eq_dec (cls c) (cls c')) as [He|Hne].
    + destruct (Hin He) as [r [Hr Heq]]; apply (affine_dparam_one _ _ r); assumption.
    + apply dparam_not_occurs, Hout, Hne.
  - intros c j Hjc Hc Hne; cbn [t_B T tnet_of] in Hne; unfold dz_coef in Hne.
    destruct (classic (occurs_neuron j (tau net c))) as [Ho|Ho];
      [exact (Hord c j Hc Ho) | exfalso; apply Hne, dneuron_not_occurs, Ho].
Qed.

End TiedTangentOf.

(* the linearised output does not change the neurons *)
Lemma tied_bias_with_out (net : network) (o : expr) (cls bias : nat -> nat) :
  tied_bias net cls bias -> tied_bias (with_out net o) cls bias.
Proof. intros H; exact H. Qed.

(** * T7: AD is correct wherever the output is differentiable *)

Section T7.
Variable cn : c1_network.
Let net := cn_net cn.
Let W := n_params net.
Let N := n_size net.
Variables (cls bias : nat -> nat).
Hypothesis Hwf : wf_neurons net.
Hypothesis Htied : tied_bias net cls bias.

(* with theta_K given per class, on the kinked neurons at w *)
Theorem T7_ad_correct_theta (theta : nat -> R) (D : nat -> R) (w g : vec) :
  (forall c, In c (kink_neurons net w) ->
     D c = slope_left (sigma net c) (preact net w c) +
           theta (cls c) * (slope_right (sigma net c) (preact net w c) - slope_left (sigma net c) (preact net w c))) ->
  differentiable_at W (c1_eval cn) w g ->
  forall p, (p < W)%nat -> ad_c1 cn D w p = g p.
Proof.
  intros HD Hd p Hp.
  set (L := net_lin cn w).
  assert (HwfL : wf L) by (apply wf_net_lin, Hwf).
  set (T := tnet_of L w).
  set (G := fun p => g p - dgw cn w p).
  apply (c1_differentiable_at_iff cn Hwf) in Hd; fold L G in Hd.
  assert (Hlin : tlinear T (hat T) G) by (intros v Hv; exact (tangent_linear_of_differentiable L w HwfL G Hd v Hv)).
  assert (HT := tnet_of_tied L cls bias w HwfL (tied_bias_with_out _ _ _ _ Htied)).
  assert (H7 := tied_tangent_T7 cls bias theta T G HT Hlin).
  assert (H1 := H7 (unit_vec p) (supported_unit_vec _ p Hp)).
  change (t_W T) with W in H1; rewrite dot_unit_vec_r in H1 by exact Hp.
  unfold ad_c1; fold L; rewrite (ad_tout L D w p HwfL Hp).
  replace (g p) with (dgw cn w p + G p) by (unfold G; ring); f_equal; rewrite <- H1.
  apply tout_ext; intros c t Hc.
  unfold lin, TangentClasses.theta_slopes, dchoice; cbn [t_sl t_sr T tnet_of]; f_equal.
  unfold L, net_lin; rewrite preact_with_out; change (sigma (with_out net _) c) with (sigma net c).
  destruct (classic (is_kink (sigma net c) (preact net w c))) as [Hk|Hk].
  - rewrite act_deriv_choice_kink by exact Hk; apply HD, kink_neurons_spec; split; [|exact Hk].
    exact Hc.
  - rewrite act_deriv_choice_not_kink by exact Hk.
    pose proof (not_kink_slopes _ _ Hk) as Hs; unfold net in Hs.
    change (sigma (with_out (cn_net cn) (lin_out (dgz cn w) (n_size (cn_net cn)))) c)
      with (sigma (cn_net cn) c).
    rewrite Hs; ring.
Qed.

(* with a choice function Dn c per neuron, theta-uniform per class *)
Theorem T7_tied_ad_correct (theta : nat -> R) (Dn : nat -> R -> R) (w g : vec) :
  (forall c y, (c < N)%nat -> is_kink (sigma net c) y ->
     Dn c y = slope_left (sigma net c) y + theta (cls c) * (slope_right (sigma net c) y - slope_left (sigma net c) y)) ->
  differentiable_at W (c1_eval cn) w g ->
  forall p, (p < W)%nat -> ad_c1 cn (fun c => Dn c (preact net w c)) w p = g p.
Proof.
  intros HD; apply (T7_ad_correct_theta theta).
  intros c Hc; apply kink_neurons_spec in Hc as [Hc Hk]; apply HD; assumption.
Qed.

(** * The count bound *)

(* points without a kinked neuron are points of differentiability *)
Lemma c1_ndf_kinked (w : vec) :
  ~ differentiable W (c1_eval cn) w ->
  exists c, (c < N)%nat /\ is_kink (sigma net c) (preact net w c).
Proof.
  intros Hnd.
  assert (Hd : ~ differentiable W (net_eval (net_lin cn w)) w).
  { intros Hd; apply Hnd; exact (proj2 (c1_differentiable_iff cn Hwf w) Hd). }
  apply (not_differentiable_kink (net_lin cn w)) in Hd; [|apply wf_net_lin, Hwf].
  rewrite kink_neurons_net_lin in Hd; fold net in Hd.
  destruct (kink_neurons net w) as [|c l] eqn:Hl; [congruence|].
  exists c; apply kink_neurons_spec; rewrite Hl; now left.
Qed.

(* the bias of the class of a kinked neuron shifts its pre-activation *)
Lemma tied_bias_shift (c : nat) : (c < N)%nat -> kinks (sigma net c) <> [] ->
  (bias (cls c) < W)%nat /\ bias_shift (fun w => preact net w c) (bias (cls c)).
Proof.
  intros Hc Hk; destruct Htied as [Hord Hb]; destruct (Hb c Hc Hk) as [Hp Hcl]; split; [exact Hp|].
  destruct (proj1 (Hcl c Hc) eq_refl) as [r [Hr Heq]].
  intros w t.
  assert (Hwf' : forall k, (k < N)%nat -> neurons_below k (tau net k))
    by (intros k Hk'; apply (proj1 (Hwf k Hk'))).
  assert (Hp' : forall k, (k < N)%nat -> cls k <> cls c -> ~ occurs_param (bias (cls c)) (tau net k))
    by (intros k Hk' Hne; apply (proj2 (Hcl k Hk')), Hne).
  exact (class_bias_preact net cls (cls c) (bias (cls c)) Hwf' Hord Hp' w t c r Hc eq_refl Hr Heq).
Qed.

(* T2's fibre argument, with a bias for the neurons that have kinks *)
Lemma kink_count_bound_kinked (M : list R) :
  NoDup M ->
  (count (fun u => exists c, (c < N)%nat /\ is_kink (sigma net c) (preact net (word_vec u) c)) (words M W)
   <= kink_total net * length M ^ (W - 1))%nat.
Proof.
  intros HM.
  eapply Nat.le_trans.
  - apply (count_le _ (fun u => exists kc, In kc (kink_pairs (sigma net) N) /\
                                 preact net (word_vec u) (fst kc) = snd kc)).
    intros u _ [k [Hk Hkink]]; exists (k, preact net (word_vec u) k); split; [|reflexivity].
    apply In_kink_pairs; assumption.
  - eapply Nat.le_trans; [apply count_union_bound|].
    unfold kink_total; fold N.
    rewrite <- kink_pairs_length, Nat.mul_comm, <- list_sum_map_const.
    apply list_sum_map_le; intros [k c] Hkc.
    unfold kink_pairs in Hkc; apply in_flat_map in Hkc as [k' [Hk' Hin]].
    apply in_map_iff in Hin as [c' [Heq Hc']]; injection Heq as -> ->.
    apply in_seq in Hk'.
    assert (Hne : kinks (sigma net k) <> []) by (intros Hn; rewrite Hn in Hc'; exact Hc').
    destruct (tied_bias_shift k ltac:(lia) Hne) as [Hp Hsh].
    exact (bias_fibre_count M W (bias (cls k)) (fun w => preact net w k) c HM Hp Hsh).
Qed.

(* |ndf_M(L)| <= n |M|^(W-1), n = sum over the neurons of |ndf(sigma_c)| *)
Theorem T7_tied_count_bound (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable W (c1_eval cn) (word_vec u)) (words M W)
   <= kink_total net * length M ^ (W - 1))%nat.
Proof.
  intros HM; eapply Nat.le_trans; [|apply kink_count_bound_kinked, HM].
  apply count_le; intros u _; apply c1_ndf_kinked.
Qed.

End T7.
