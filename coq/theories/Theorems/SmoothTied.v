(* T7 for smooth pre-activations (THEORY.md section 8.1, "Tied networks",
   with the tau_k of section 3 any C1 functions; issue 18, items 1 and 3).
   A tied-bias smooth-tau network: neurons in classes cls c; tau_c does not
   read z_j unless cls j < cls c; every class K containing a kinked neuron has
   a bias parameter bias K with tau_c = w_(bias K) + (a C1 function not
   reading it) for c in K, and no other tau reads it.
   At w the smooth network has the derivative, K(w) and AD of the C1 network
   [lin_c1 sn w] (SmoothTau.v), whose tangent network has coefficients the
   partial derivatives of the tau_c at (w, z(w)): so it is a tied tangent
   network (T7Tangent.v: only non-zero coefficients matter), and T7Tangent's
   theorem gives AD = gradient under a choice theta-uniform per class. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output
  Tangent TangentClasses T6Tangent T7Tangent Tied Counting T2 T7Correct SmoothTau SmoothTauTheorems.
Import ListNotations.
Open Scope R_scope.

(** * Tied-bias smooth-tau networks *)

Section Defs.
Variables (sn : st_network) (cls : nat -> nat).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

(* w_p enters tau_c with coefficient 1 for c of class K, and no other tau *)
Definition st_class_bias (K p : nat) : Prop :=
  (p < W)%nat /\
  forall c, (c < N)%nat ->
    (cls c = K -> forall u t, c1_g (st_tau sn c) (upd u p t) = c1_g (st_tau sn c) u + (t - u p)) /\
    (cls c <> K -> forall u t, c1_g (st_tau sn c) (upd u p t) = c1_g (st_tau sn c) u).

(* tau_c reads z_j (j < c) only if j is of a lower class *)
Definition st_classes_ordered : Prop :=
  forall c j, (c < N)%nat -> (j < c)%nat -> (cls c <= cls j)%nat ->
    forall u t, c1_g (st_tau sn c) (upd u (W + j) t) = c1_g (st_tau sn c) u.

Definition st_tied_bias (bias : nat -> nat) : Prop :=
  st_classes_ordered /\
  forall c, (c < N)%nat -> kinks (st_sigma sn c) <> [] -> st_class_bias (cls c) (bias (cls c)).

End Defs.

(** * The tangent network of the linearised network is tied *)

Section TangentTied.
Variables (sn : st_network) (cls bias : nat -> nat) (w : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Hypothesis Htied : st_tied_bias sn cls bias.
Let L := net_lin (lin_c1 sn w) w.

Lemma lin_L_wf : wf L.
Proof. apply wf_net_lin, lin_wf_neurons. Qed.

Lemma L_size : n_size L = N.
Proof. apply lin_net_size. Qed.

Lemma L_sigma c : (c < N)%nat -> sigma L c = st_sigma sn c.
Proof. intros Hc; exact (lin_sigma_nth sn w c Hc). Qed.

Lemma L_dw_coef c p : (c < N)%nat -> (p < W)%nat -> dw_coef L w c p = st_dw sn w c p.
Proof.
  intros Hc Hp; unfold dw_coef; change (tau L c) with (tau (lin_net sn w) c).
  rewrite lin_tau_nth by exact Hc; apply eval_dparam_lin_tau, Hp.
Qed.

Lemma L_dz_coef c j : (c < N)%nat -> (j < c)%nat -> dz_coef L w c j = st_dz sn w c j.
Proof.
  intros Hc Hj; unfold dz_coef; change (tau L c) with (tau (lin_net sn w) c).
  rewrite lin_tau_nth by exact Hc; apply eval_dneuron_lin_tau, Hj.
Qed.

Theorem lin_tnet_tied : tied_tnet cls bias (tnet_of L w).
Proof.
  destruct Htied as [Hord Hb].
  split; [|split].
  - intros c j Hc Hj; cbn [t_B tnet_of]; apply dz_coef_above; [exact lin_L_wf | exact Hc | exact Hj].
  - intros c' Hc' Hk; cbn [t_N t_W t_A t_sl t_sr tnet_of] in Hc', Hk |- *.
    rewrite L_size in Hc'; rewrite L_sigma in Hk by exact Hc'.
    destruct (Hb c' Hc' (slopes_differ_kinks_nonempty _ _ Hk)) as [Hp Hcl].
    change (n_params L) with W; split; [exact Hp|].
    intros c Hc; rewrite L_size in Hc; rewrite L_dw_coef by assumption.
    destruct (Hcl c Hc) as [Hin Hout]; unfold st_dw.
    destruct (Nat.eq_dec (cls c) (cls c')) as [He|Hne].
    + apply (partial_of_affine _ (c1_g (st_tau sn c)) (st_point sn w c) _ _ 1
               (c1_diff _ _ (st_tau sn c) _)); [lia|].
      intros t; rewrite (Hin He); ring.
    + apply (partial_of_affine _ (c1_g (st_tau sn c)) (st_point sn w c) _ _ 0
               (c1_diff _ _ (st_tau sn c) _)); [lia|].
      intros t; rewrite (Hout Hne); ring.
  - intros c j Hjc Hc Hne; cbn [t_B t_N tnet_of] in Hc, Hne; rewrite L_size in Hc.
    rewrite L_dz_coef in Hne by assumption.
    destruct (lt_dec (cls j) (cls c)) as [Hlt|Hge]; [exact Hlt|exfalso; apply Hne].
    unfold st_dz; apply (partial_of_affine _ (c1_g (st_tau sn c)) (st_point sn w c) _ _ 0
               (c1_diff _ _ (st_tau sn c) _)); [lia|].
    intros t; rewrite (Hord c j Hc Hjc ltac:(lia)); ring.
Qed.

End TangentTied.

(** * T7 over smooth pre-activations *)

Section T7Smooth.
Variables (sn : st_network) (cls bias : nat -> nat).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Hypothesis Htied : st_tied_bias sn cls bias.

(* with theta_K given per class, on the kinked neurons at w *)
Theorem st_T7_ad_correct_theta (theta : nat -> R) (D : nat -> R) (w g : vec) :
  (forall c, In c (st_kink_neurons sn w) ->
     D c = slope_left (st_sigma sn c) (st_preact sn w c) +
           theta (cls c) * (slope_right (st_sigma sn c) (st_preact sn w c) -
                            slope_left (st_sigma sn c) (st_preact sn w c))) ->
  differentiable_at W (st_eval sn) w g ->
  forall p, (p < W)%nat -> st_ad sn D w p = g p.
Proof.
  intros HD Hd p Hp.
  set (cn := lin_c1 sn w).
  assert (Hwf : wf_neurons (cn_net cn)) by apply lin_wf_neurons.
  set (L := net_lin cn w).
  assert (HwfL : wf L) by (apply wf_net_lin, Hwf).
  set (T := tnet_of L w).
  set (G := fun p => g p - dgw cn w p).
  apply (st_differentiable_at_iff sn w g) in Hd.
  apply (c1_differentiable_at_iff cn Hwf) in Hd; fold L G in Hd.
  assert (Hlin : tlinear T (hat T) G) by (intros v Hv; exact (tangent_linear_of_differentiable L w HwfL G Hd v Hv)).
  assert (HT := lin_tnet_tied sn cls bias w Htied).
  assert (H7 := tied_tangent_T7 cls bias theta T G HT Hlin).
  assert (H1 := H7 (unit_vec p) (supported_unit_vec _ p Hp)).
  change (t_W T) with W in H1; rewrite dot_unit_vec_r in H1 by exact Hp.
  unfold st_ad, ad_c1; fold cn L; rewrite (ad_tout L D w p HwfL Hp).
  replace (g p) with (dgw cn w p + G p) by (unfold G; ring); f_equal; rewrite <- H1.
  apply tout_ext; intros c t Hc.
  assert (HcN : (c < N)%nat) by (rewrite <- (lin_net_size sn w); exact Hc); clear Hc; rename HcN into Hc.
  unfold lin, TangentClasses.theta_slopes, dchoice; cbn [t_sl t_sr T tnet_of]; f_equal.
  unfold L, net_lin; rewrite preact_with_out.
  change (sigma (with_out (cn_net cn) _) c) with (sigma (lin_net sn w) c).
  change (preact (cn_net cn) w c) with (preact (lin_net sn w) w c).
  rewrite (lin_sigma_nth sn w c Hc), (lin_preact_at sn w c Hc).
  destruct (classic (is_kink (st_sigma sn c) (st_preact sn w c))) as [Hk|Hk].
  - rewrite act_deriv_choice_kink by exact Hk; apply HD.
    rewrite <- (lin_kink_neurons sn w); apply kink_neurons_spec; split; [|].
    + rewrite lin_net_size; exact Hc.
    + rewrite (lin_sigma_nth sn w c Hc), (lin_preact_at sn w c Hc); exact Hk.
  - rewrite act_deriv_choice_not_kink by exact Hk.
    rewrite (not_kink_slopes _ _ Hk); ring.
Qed.

(* T7: a choice function Dn c per neuron, theta-uniform per class *)
Theorem st_T7_tied_ad_correct (theta : nat -> R) (Dn : nat -> R -> R) (w g : vec) :
  (forall c y, (c < N)%nat -> is_kink (st_sigma sn c) y ->
     Dn c y = slope_left (st_sigma sn c) y +
              theta (cls c) * (slope_right (st_sigma sn c) y - slope_left (st_sigma sn c) y)) ->
  differentiable_at W (st_eval sn) w g ->
  forall p, (p < W)%nat -> st_ad sn (fun c => Dn c (st_preact sn w c)) w p = g p.
Proof.
  intros HD; apply (st_T7_ad_correct_theta theta).
  intros c Hc; rewrite <- (lin_kink_neurons sn w) in Hc.
  apply kink_neurons_spec in Hc as [Hc Hk]; rewrite lin_net_size in Hc.
  rewrite (lin_sigma_nth sn w c Hc), (lin_preact_at sn w c Hc) in Hk.
  apply HD; assumption.
Qed.

End T7Smooth.

(** * The count bound *)

Lemma pack_upd_param W w z p t : (p < W)%nat -> pack W (upd w p t) z = upd (pack W w z) p t.
Proof.
  intros Hp; apply functional_extensionality; intros i; unfold pack, upd.
  destruct (lt_dec i W), (Nat.eq_dec i p); subst; try lia; reflexivity.
Qed.

Lemma pack_upd_neuron W w z j t : pack W w (upd z j t) = upd (pack W w z) (W + j) t.
Proof.
  apply functional_extensionality; intros i; unfold pack, upd.
  destruct (lt_dec i W), (Nat.eq_dec (i - W) j), (Nat.eq_dec i (W + j)); subst; try lia; reflexivity.
Qed.

Section Count.
Variables (sn : st_network) (cls bias : nat -> nat).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Hypothesis Htied : st_tied_bias sn cls bias.

(* tau_c sees only the outputs of lower classes *)
Lemma st_tau_reads_lower (c : nat) (w z z' : vec) : (c < N)%nat ->
  (forall i, (i < c)%nat -> (cls i < cls c)%nat -> z i = z' i) ->
  (forall i, (c <= i)%nat -> z i = z' i) ->
  c1_g (st_tau sn c) (pack W w z) = c1_g (st_tau sn c) (pack W w z').
Proof.
  intros Hc Hlow Hhigh.
  set (zn := fun n i => if lt_dec i n then z' i else z i).
  assert (Hn : forall n, (n <= c)%nat -> c1_g (st_tau sn c) (pack W w (zn n)) = c1_g (st_tau sn c) (pack W w z)).
  { induction n as [|n IH]; intros Hnc.
    - replace (zn 0%nat) with z; [reflexivity|].
      apply functional_extensionality; intros i; unfold zn.
      destruct (lt_dec i 0); [lia | reflexivity].
    - rewrite <- IH by lia; destruct (lt_dec (cls n) (cls c)) as [Hlt|Hge].
      + replace (zn (S n)) with (zn n); [reflexivity|].
        apply functional_extensionality; intros i; unfold zn.
        destruct (lt_dec i (S n)), (lt_dec i n); try reflexivity; try lia.
        replace i with n by lia; apply Hlow; lia.
      + replace (zn (S n)) with (upd (zn n) n (z' n)).
        * rewrite pack_upd_neuron; apply (proj1 Htied c n Hc ltac:(lia) ltac:(lia)).
        * apply functional_extensionality; intros i; unfold zn, upd.
          destruct (Nat.eq_dec i n), (lt_dec i (S n)), (lt_dec i n); subst; try lia; reflexivity. }
  rewrite <- (Hn c (le_n c)); replace (zn c) with z'; [reflexivity|].
  apply functional_extensionality; intros i; unfold zn.
  destruct (lt_dec i c); [reflexivity | symmetry; apply Hhigh; lia].
Qed.

Section Shift.
Variables (K p : nat).
Hypothesis Hp : (p < W)%nat.
Hypothesis Hout : forall c, (c < N)%nat -> cls c <> K ->
  forall u t, c1_g (st_tau sn c) (upd u p t) = c1_g (st_tau sn c) u.

(* moving the bias of class K moves no neuron of a lower class *)
Lemma st_class_bias_lower (w : vec) (t : R) :
  forall j, (j < N)%nat -> (cls j < K)%nat -> st_post sn (upd w p t) j = st_post sn w j.
Proof.
  intros j; induction j as [j IH] using lt_wf_ind; intros Hj Hcj.
  unfold st_post, st_preact, st_point; f_equal.
  rewrite pack_upd_param, Hout by (exact Hp || exact Hj || lia).
  apply st_tau_reads_lower; [exact Hj| |].
  - intros i Hi Hci; rewrite !st_zvals_lt by exact Hi; apply IH; lia.
  - intros i Hi; rewrite !st_zvals_ge by exact Hi; reflexivity.
Qed.

(* y_c(w + t e_p) - t does not depend on t, for every neuron c of class K *)
Lemma st_class_bias_preact (c : nat) : (c < N)%nat -> cls c = K ->
  (forall u t, c1_g (st_tau sn c) (upd u p t) = c1_g (st_tau sn c) u + (t - u p)) ->
  bias_shift (fun w => st_preact sn w c) p.
Proof.
  intros Hc HK Hin w t; unfold st_preact, st_point.
  rewrite pack_upd_param, Hin, pack_lt by exact Hp.
  rewrite (st_tau_reads_lower c w (st_zvals sn (upd w p t) c) (st_zvals sn w c) Hc); [ring| |].
  - intros i Hi Hci; rewrite !st_zvals_lt by exact Hi; apply st_class_bias_lower; lia.
  - intros i Hi; rewrite !st_zvals_ge by exact Hi; reflexivity.
Qed.

End Shift.

(* the bias of the class of a kinked neuron shifts its pre-activation *)
Lemma st_tied_bias_shift (c : nat) : (c < N)%nat -> kinks (st_sigma sn c) <> [] ->
  (bias (cls c) < W)%nat /\ bias_shift (fun w => st_preact sn w c) (bias (cls c)).
Proof.
  intros Hc Hk; destruct (proj2 Htied c Hc Hk) as [Hp Hcl]; split; [exact Hp|].
  apply (st_class_bias_preact (cls c)); [exact Hp | | exact Hc | reflexivity | apply (proj1 (Hcl c Hc)), eq_refl].
  intros j Hj Hne; apply (proj2 (Hcl j Hj)), Hne.
Qed.

(* points without a kinked neuron are points of differentiability *)
Lemma st_ndf_kinked (w : vec) :
  ~ differentiable W (st_eval sn) w ->
  exists c, (c < N)%nat /\ is_kink (st_sigma sn c) (st_preact sn w c).
Proof.
  intros Hnd; rewrite (st_differentiable_iff sn w) in Hnd.
  destruct (c1_ndf_kinked (lin_c1 sn w) (lin_wf_neurons sn w) w Hnd) as [c [Hc Hk]].
  change (cn_net (lin_c1 sn w)) with (lin_net sn w) in Hc, Hk.
  rewrite lin_net_size in Hc; exists c; split; [exact Hc|].
  rewrite (lin_sigma_nth sn w c Hc), (lin_preact_at sn w c Hc) in Hk; exact Hk.
Qed.

(* n = sum over the neurons of |ndf(sigma_c)| *)
Definition st_kink_total : nat :=
  list_sum (map (fun k => length (kinks (st_sigma sn k))) (seq 0 N)).

(* |ndf_M(f)| <= n |M|^(W-1) *)
Theorem st_T7_tied_count_bound (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable W (st_eval sn) (word_vec u)) (words M W)
   <= st_kink_total * length M ^ (W - 1))%nat.
Proof.
  intros HM.
  eapply Nat.le_trans; [apply count_le; intros u _; apply st_ndf_kinked|].
  eapply Nat.le_trans.
  - apply (count_le _ (fun u => exists kc, In kc (kink_pairs (st_sigma sn) N) /\
                                 st_preact sn (word_vec u) (fst kc) = snd kc)).
    intros u _ [k [Hk Hkink]]; exists (k, st_preact sn (word_vec u) k); split; [|reflexivity].
    apply In_kink_pairs; assumption.
  - eapply Nat.le_trans; [apply count_union_bound|].
    unfold st_kink_total.
    rewrite <- kink_pairs_length, Nat.mul_comm, <- list_sum_map_const.
    apply list_sum_map_le; intros [k c] Hkc.
    unfold kink_pairs in Hkc; apply in_flat_map in Hkc as [k' [Hk' Hin]].
    apply in_map_iff in Hin as [c' [Heq Hc']]; injection Heq as -> ->.
    apply in_seq in Hk'.
    assert (Hne : kinks (st_sigma sn k) <> []) by (intros Hn; rewrite Hn in Hc'; exact Hc').
    destruct (st_tied_bias_shift k ltac:(lia) Hne) as [Hp Hsh].
    exact (bias_fibre_count M W (bias (cls k)) (fun w => st_preact sn w k) c HM Hp Hsh).
Qed.

End Count.
