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
  Tangent TangentClasses T6Tangent T7Tangent Tied SmoothTau SmoothTauTheorems.
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
