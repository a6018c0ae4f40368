(* T4 for tied-bias networks with a C1 output (THEORY.md section 8.1, "Tied
   networks", with T4 of section 5; issue 18, "Coq V", item 1): the setting
   of T7_tied_ad_correct.  As in T4C1.v, AD_D f(w) = dg/dw(w) + AD of
   net_lin (the output linearised at w), and net_lin is a tied-bias network,
   so T7Clarke.v writes it as a convex combination of the class vertices
   dg/dw(w) + grad f_s(w).  Each is a limit of gradients of f: at the points
   w_n of T7Clarke.v (kinked neurons of w strictly on their chosen side, the
   others off the kinks) no neuron is at a kink, so f is differentiable at
   w_n with gradient AD (T5b on net_lin), that is dg/dw + sum_j dg/dz_j
   grad z_j propagated with the slopes of the vertex, which is continuous in
   w_n (T4.v, T4C1.v).  Batched networks (T6) are an instance
   (T6_batch_ad_in_clarke). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical ClassicalEpsilon.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD SelectLocal Clarke T4 C1Output T4C1
  Tied T7Clarke Batch T6Correct T7Batch.
Import ListNotations.
Open Scope R_scope.

(* the vertex slopes do not read the output *)
Lemma vertex_slopes_with_out (X : network) (o : expr) (w : vec) (b : nat -> bool) (v : vec) (j : nat) :
  vertex_slopes (with_out X o) w b v j = vertex_slopes X w b v j.
Proof.
  unfold vertex_slopes, vertex_pattern, dchoice; rewrite kink_neurons_with_out, !preact_with_out.
  reflexivity.
Qed.

Lemma vertex_pattern_with_out (X : network) (o : expr) (w : vec) (b : nat -> bool) :
  vertex_pattern (with_out X o) w b = vertex_pattern X w b.
Proof.
  apply functional_extensionality; intros k; unfold vertex_pattern; rewrite preact_with_out; reflexivity.
Qed.

Lemma good_with_out (X : network) (o : expr) (w : vec) (b : nat -> bool) (j : nat) (y : R) :
  good (with_out X o) w b j y -> good X w b j y.
Proof. unfold good; rewrite vertex_pattern_with_out; exact (fun H => H). Qed.

(** * Definitions *)

Section C1TiedClarke.
Variable cn : c1_network.
Local Notation net := (cn_net cn).
Local Notation W := (n_params (cn_net cn)).
Local Notation N := (n_size (cn_net cn)).
Local Notation net0 := (with_out (cn_net cn) (EConst 0)).
Variables (cls bias : nat -> nat).
Hypothesis Hwf : wf_neurons net.
Hypothesis Htied : tied_bias net cls bias.
Variables (w : vec) (B : nat -> bool).
Let b := fun c => B (cls c).

(* the candidate gradient of f at v: dg/dw + sum_j dg/dz_j grad z_j, propagated
   with the slopes of the vertex b *)
Definition cvgrad (v : vec) (p : nat) : R :=
  dgw cn v p + sumn N (fun j => dgz cn v j * grad_sl (with_out net (ENeuron j)) (vertex_slopes net0 w b v) v p).

(** * Lemmas *)

Lemma wf_out_neuron (j : nat) : (j < N)%nat -> wf (with_out net (ENeuron j)).
Proof.
  intros Hj; apply wf_with_out; [exact Hwf | intros i Hi; simpl in Hi; lia
                                | intros q Hq; simpl in Hq; contradiction].
Qed.

Lemma cvgrad_continuous (p : nat) : continuous_at W (fun v => cvgrad v p) w.
Proof.
  unfold cvgrad; apply (continuous_at_plus W (fun v => dgw cn v p)); [apply dg_continuous, Hwf|].
  apply (sum_list_continuous W w (seq 0 N)
           (fun j v => dgz cn v j * grad_sl (with_out net (ENeuron j)) (vertex_slopes net0 w b v) v p)).
  intros j Hj; apply in_seq in Hj.
  apply (continuous_at_mult W (fun v => dgz cn v j)); [apply dg_continuous, Hwf|].
  apply (grad_sl_continuous (with_out net (ENeuron j)) w (wf_out_neuron j ltac:(lia))
           (vertex_slopes net0 w b)).
  intros k Hk; apply (vertex_slopes_continuous net0 w b (wf_net0 cn Hwf) k Hk).
Qed.

(* cvgrad is dg/dw plus the propagation through net_lin with the vertex slopes *)
Lemma cvgrad_eq (v : vec) (p : nat) : (p < W)%nat ->
  cvgrad v p = dgw cn v p + grad_sl (net_lin cn v) (vertex_slopes net0 w b v) v p.
Proof.
  intros Hp; unfold cvgrad, net_lin; f_equal.
  rewrite grad_sl_lin_out by (exact Hwf || exact Hp).
  apply sumn_ext; intros j Hj; rewrite zdot_as_grad by (exact Hwf || exact Hp || exact Hj); ring.
Qed.

Lemma cvgrad_at_w (p : nat) : (p < W)%nat ->
  cvgrad w p = dgw cn w p + vertex_grad (net_lin cn w) w b p.
Proof.
  intros Hp; rewrite cvgrad_eq by exact Hp; f_equal.
  rewrite <- (vertex_slopes_at_w (net_lin cn w) w b p); apply grad_compare; intros j _; left.
  unfold net_lin; rewrite !vertex_slopes_with_out; reflexivity.
Qed.

(* with no neuron at a kink, f is differentiable with gradient AD *)
Lemma c1_no_kink_differentiable (D : nat -> R) (v : vec) :
  (forall j, (j < N)%nat -> ~ is_kink (sigma net j) (preact net v j)) ->
  differentiable_at W (c1_eval cn) v (ad_c1 cn D v).
Proof.
  intros Hk; apply (c1_differentiable_at_iff cn Hwf).
  eapply differentiable_at_grad_ext; [|apply (no_kink_ad_correct (net_lin cn v) v D (wf_net_lin cn v Hwf))].
  - intros p _; unfold ad_c1; ring.
  - rewrite kink_neurons_net_lin; destruct (kink_neurons (cn_net cn) v) as [|c l] eqn:Hl; [reflexivity|].
    exfalso; assert (Hc : In c (kink_neurons (cn_net cn) v)) by (rewrite Hl; now left).
    apply kink_neurons_spec in Hc as [Hc1 Hc2]; exact (Hk c Hc1 Hc2).
Qed.

(* at a point where the kinked neurons of w are good and the others off the
   kinks, f is differentiable with gradient cvgrad *)
Lemma cvgrad_differentiable (v : vec) :
  (forall j, In j (kink_neurons net w) -> good net w b j (preact net v j)) ->
  (forall j, (j < N)%nat -> ~ In j (kink_neurons net w) -> ~ is_kink (sigma net j) (preact net v j)) ->
  differentiable_at W (c1_eval cn) v (cvgrad v).
Proof.
  intros Hg Hn.
  assert (Hk : forall j, (j < N)%nat -> ~ is_kink (sigma net j) (preact net v j)).
  { intros j Hj; destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hnin];
      [apply (good_not_kink net w b j _ 0 (Hg j Hin)) | apply Hn; assumption]. }
  eapply differentiable_at_grad_ext; [|apply (c1_no_kink_differentiable (fun _ => 0) v Hk)].
  intros p Hp; rewrite cvgrad_eq by exact Hp; unfold ad_c1, ad; f_equal.
  apply grad_compare; intros j Hj; left.
  rewrite vertex_slopes_with_out; unfold vertex_slopes, dchoice.
  change (sigma (net_lin cn v) j) with (sigma net j); rewrite preact_net_lin.
  destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|]; [|reflexivity].
  exact (proj2 (good_not_kink net w b j _ 0 (Hg j Hin))).
Qed.

(* each class vertex dg/dw + grad f_s(w) is a limit of gradients of f *)
Theorem c1_class_vertex_clarke_limit :
  clarke_limit_fun W (c1_eval cn) w (fun p => dgw cn w p + vertex_grad (net_lin cn w) w b p).
Proof.
  assert (Hwf0 := wf_net0 cn Hwf).
  assert (Ht0 : tied_bias net0 cls bias) by exact Htied.
  destruct (no_new_kinks net0 w Hwf0) as [d0 [Hd0 K0]].
  destruct (classes_bounded cls (kink_neurons net w)) as [Km HKm].
  assert (Hseq : forall n : nat, exists h, supported W h /\ norm_max W h < Rmin (/ INR (S n)) d0 /\
            forall j, In j (kink_neurons net0 w) -> (cls j < Km)%nat ->
              good net0 w b j (preact net0 (vadd w h) j)).
  { intros n; apply (reach_good_tied net0 cls bias Hwf0 Ht0 w B Km).
    apply Rmin_glb_lt; [apply Rinv_0_lt_compat, lt_0_INR; lia | exact Hd0]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported W (hs n) /\ norm_max W (hs n) < Rmin (/ INR (S n)) d0 /\
            forall j, In j (kink_neurons net0 w) -> (cls j < Km)%nat ->
              good net0 w b j (preact net0 (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  assert (Hsmall : forall n, norm_max W (hs n) < / INR (S n) /\ norm_max W (hs n) < d0).
  { intros n; destruct (Hhs n) as [_ [Hn _]].
    generalize (Rmin_l (/ INR (S n)) d0) (Rmin_r (/ INR (S n)) d0); intros; split; lra. }
  exists (fun n => vadd w (hs n)), (fun n => cvgrad (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [M HM]; exists M; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HM, Hn].
  - intros n; apply cvgrad_differentiable.
    + intros j Hj; rewrite <- (preact_with_out net (EConst 0)); apply (good_with_out net (EConst 0)).
      apply Hhs; [rewrite kink_neurons_with_out; exact Hj | apply HKm, Hj].
    + intros j Hj Hjk; rewrite <- (preact_with_out net (EConst 0)).
      apply K0; [apply Hhs | apply (proj2 (Hsmall n)) | exact Hj | rewrite kink_neurons_with_out; exact Hjk].
  - intros p Hp eps He.
    destruct (cvgrad_continuous p eps He) as [d [Hd K]].
    destruct (inv_S_small d Hd) as [M HM]; exists M; intros n Hn.
    rewrite <- (cvgrad_at_w p Hp); apply K;
      [apply Hhs | eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HM, Hn]].
Qed.

End C1TiedClarke.

(** * T4 for tied-bias networks with a C1 output *)

Section T7C1.
Variable cn : c1_network.
Local Notation net := (cn_net cn).
Variables (cls bias : nat -> nat).
Hypothesis Hwf : wf_neurons net.
Hypothesis Htied : tied_bias net cls bias.

(* with theta_K in [0, 1] given per class, on the kinked neurons at w *)
Theorem T7_c1_ad_in_clarke_theta (theta : nat -> R) (D : nat -> R) (w : vec) :
  (forall K, 0 <= theta K <= 1) ->
  (forall c, In c (kink_neurons net w) -> D c = theta_choice net cls w theta c) ->
  in_clarke_fun (n_params net) (c1_eval cn) w (ad_c1 cn D w).
Proof.
  intros Hth HD.
  set (L := net_lin cn w).
  assert (HL : tied_bias L cls bias) by exact Htied.
  set (Ks := nodup Nat.eq_dec (map cls (kink_neurons net w))).
  assert (HKs : forall j, In j (kink_neurons L w) -> In (cls j) Ks)
    by (intros j Hj; unfold L in Hj; rewrite kink_neurons_net_lin in Hj; apply nodup_In, in_map, Hj).
  destruct (ad_theta_convex L cls bias HL w Ks (NoDup_nodup _ _) theta (fun K _ => Hth K)) as [cs [H0 [H1 H]]].
  exists (map (fun c => (fst c, fun p => dgw cn w p + vertex_grad L w (fun k => snd c (cls k)) p)) cs).
  split; [|split].
  - intros c Hc; apply in_map_iff in Hc as [c' [<- Hc']]; cbn [fst snd].
    split; [now apply H0 | apply (c1_class_vertex_clarke_limit cn cls bias Hwf Htied)].
  - rewrite map_map; exact H1.
  - intros p _; unfold ad_c1; fold L.
    rewrite (ad_choice_ext L D (theta_choice L cls w theta) w p), H, map_map; cbn [fst snd].
    2:{ intros j Hj; unfold L in Hj; rewrite kink_neurons_net_lin in Hj; rewrite HD by exact Hj.
        unfold theta_choice, slope_L, slope_R, L; rewrite !preact_net_lin; reflexivity. }
    transitivity (sum_list (map (fun c => fst c * dgw cn w p) cs) +
                  sum_list (map (fun c => fst c * ad L (theta_choice L cls w (bool_theta theta Ks (snd c))) w p) cs)).
    + rewrite (sum_list_map_ext (fun c => fst c * dgw cn w p) (fun c => dgw cn w p * fst c))
        by (intros; ring).
      rewrite sum_list_map_scal, H1; ring.
    + rewrite <- sum_list_map_plus; apply sum_list_map_ext; intros c _.
      rewrite class_vertex_ad by exact HKs; ring.
Qed.

(* the hypotheses of T7_tied_ad_correct, with every theta_K in [0, 1] *)
Theorem T7_c1_tied_ad_in_clarke (theta : nat -> R) (Dn : nat -> R -> R) (w : vec) :
  (forall K, 0 <= theta K <= 1) ->
  (forall c y, (c < n_size net)%nat -> is_kink (sigma net c) y ->
     Dn c y = slope_left (sigma net c) y + theta (cls c) * (slope_right (sigma net c) y - slope_left (sigma net c) y)) ->
  in_clarke_fun (n_params net) (c1_eval cn) w (ad_c1 cn (fun c => Dn c (preact net w c)) w).
Proof.
  intros Hth HD; apply (T7_c1_ad_in_clarke_theta theta); [exact Hth|].
  intros c Hc; apply kink_neurons_spec in Hc as [Hc Hk]; rewrite HD by assumption; reflexivity.
Qed.

End T7C1.

(** * Batched networks *)

(* a choice theta-uniform with theta in [0, 1]: between the one-sided slopes *)
Definition theta_uniform01 (a : activation) (Da : R -> R) : Prop :=
  exists theta, 0 <= theta <= 1 /\
    forall c, is_kink a c -> Da c = slope_left a c + theta * (slope_right a c - slope_left a c).

Section BatchClarke.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Let N := n_size net.
Let bn := batch_net net B xs loss.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.

(* T4 for batched bias networks (T6's setting), choices theta-uniform in [0, 1] *)
Corollary T6_batch_ad_in_clarke (Dk : nat -> R -> R) (w : vec) :
  (forall k, (k < N)%nat -> theta_uniform01 (sigma net k) (Dk k)) ->
  in_clarke_fun (n_params net) (c1_eval bn) w (ad_c1 bn (fun c => Dk (c mod N) (preact bnet w c)) w).
Proof.
  intros Hu; destruct (finite_choice (fun k th => 0 <= th <= 1 /\ forall c, is_kink (sigma net k) c ->
                          Dk k c = slope_left (sigma net k) c + th * (slope_right (sigma net k) c - slope_left (sigma net k) c))
                        N 0 Hu) as [theta Htheta].
  set (theta' := fun K => if lt_dec K N then theta K else 0).
  destruct (T6_batch_is_tied net B xs Hwf Hb) as [bias Htied].
  apply (T7_c1_tied_ad_in_clarke bn (fun c => c mod N) bias (batch_wf net B xs Hwf) Htied theta'
           (fun c y => Dk (c mod N) y)).
  - intros K; unfold theta'; destruct (lt_dec K N) as [HK|]; [apply (Htheta K HK) | lra].
  - intros c y Hc Hk; cbn [bn batch_net cn_net] in Hc, Hk |- *.
    rewrite batch_size in Hc; destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk' ->]]]].
    rewrite batch_sigma in Hk |- * by assumption; rewrite copy_mod by exact Hk'.
    unfold theta'; destruct (lt_dec k N) as [_|]; [|lia].
    apply Htheta; [exact Hk' | exact Hk].
Qed.

End BatchClarke.
