(* T4 for tied-bias networks (THEORY.md section 8.1, "Tied networks", with
   T4 of section 5, "Clarke"; issue 18, "Coq V", item 1).  For a tied-bias
   network (Tied.v) and a choice that is theta-uniform per class with every
   theta_K in [0, 1] (D at a kinked neuron c is
   sigma'_-(y_c) + theta_(cls c) (sigma'_+(y_c) - sigma'_-(y_c))),
   AD_D f(w) is in the Clarke subdifferential of f at w.
   Proof, as T4.v's with classes for neurons:
   - AD is affine in theta_K: a path of the back-propagation meets at most
     one neuron of class K (neurons read lower classes only), so the adjoint
     zbar of a neuron of class K does not depend on the slopes of class K
     (ybars_class_affine).  Hence AD_D f(w) is a convex combination of the
     "class vertices": at every kinked neuron the left slope, or at every
     kinked neuron of class K the right one, class by class.
   - Each class vertex gradient is a limit of gradients at points of
     differentiability: the class biases are moved class by class, upwards;
     moving bias K by +-2 eta shifts every neuron of class K by that amount
     and no neuron of a lower class, and the neurons of class K moved less
     than eta before, so all the kinked ones land strictly on the chosen side.
     The other neurons stay off the kinks (T4.v, RealisePerturbable).
   theta_K in [0, 1] cannot be dropped: a relu neuron with choice 5 at 0
   gives a gradient outside the Clarke subdifferential (Main.v,
   five_not_in_clarke). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical ClassicalEpsilon.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal Clarke T4 Tied.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* the theta-uniform choice: left slope + theta_(cls c) (right - left) *)
Definition theta_choice (net : network) (cls : nat -> nat) (w : vec) (th : nat -> R) (c : nat) : R :=
  slope_L net w c + th (cls c) * (slope_R net w c - slope_L net w c).

(* theta_K set to 0 or 1 (by B) on the classes of Ks *)
Definition bool_theta (th : nat -> R) (Ks : list nat) (B : nat -> bool) (K : nat) : R :=
  if in_dec Nat.eq_dec K Ks then (if B K then 1 else 0) else th K.

(** * Basic facts *)

(* AD only reads the choice at the kink neurons *)
Lemma ad_choice_ext (net : network) (D D' : nat -> R) (w : vec) (p : nat) :
  (forall j, In j (kink_neurons net w) -> D j = D' j) -> ad net D w p = ad net D' w p.
Proof.
  intros H; unfold ad; apply grad_compare; intros j Hj; left; unfold dchoice.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hk|Hk].
  - rewrite !act_deriv_choice_kink by exact Hk; apply H, kink_neurons_spec; split; assumption.
  - rewrite !act_deriv_choice_not_kink by exact Hk; reflexivity.
Qed.

(* one number greater than the classes of a list *)
Lemma classes_bounded (cls : nat -> nat) (l : list nat) :
  exists Km, forall j, In j l -> (cls j < Km)%nat.
Proof.
  induction l as [|a l [Km HK]]; [exists 0%nat; intros j []|].
  exists (S (Nat.max (cls a) Km)); intros j [<-|Hj]; [lia | specialize (HK j Hj); lia].
Qed.

(* one radius for finitely many neurons *)
Lemma radius_for_list (l : list nat) (Q : nat -> R -> Prop) :
  (forall j, In j l -> exists d, 0 < d /\ forall rho, 0 < rho < d -> Q j rho) ->
  exists d, 0 < d /\ forall j, In j l -> forall rho, 0 < rho < d -> Q j rho.
Proof.
  induction l as [|a l IH]; intros H; [exists 1; split; [lra | intros j []]|].
  destruct (H a (or_introl eq_refl)) as [d1 [Hd1 K1]].
  destruct IH as [d2 [Hd2 K2]]; [intros j Hj; apply H; now right|].
  exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|].
  generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros H1 H2.
  intros j' [<-|Hj] rho Hr; [apply K1; lra | apply K2; [exact Hj | lra]].
Qed.

Section TiedClarke.
Variables (net : network) (cls bias : nat -> nat).
Hypothesis Hwf : wf net.
Hypothesis Htied : tied_bias net cls bias.
Local Notation N := (n_size net).
Local Notation W := (n_params net).

Lemma tied_net_ordered : classes_ordered net cls.
Proof. exact (proj1 Htied). Qed.

Lemma wf_reads_below : forall c, (c < N)%nat -> neurons_below c (tau net c).
Proof. intros c Hc; exact (proj1 (proj1 Hwf c Hc)). Qed.

(** * AD is affine in theta_K *)

(* zbar_k reads the adjoints of the neurons of higher classes only *)
Lemma zbar_from_reads_above (w : vec) (yb yb' : nat -> R) (k : nat) :
  (forall i, (k < i < N)%nat -> (cls k < cls i)%nat -> yb i = yb' i) ->
  zbar_from net w yb k = zbar_from net w yb' k.
Proof.
  intros H; unfold zbar_from; f_equal; apply sum_list_map_ext; intros i Hi; apply in_seq in Hi.
  destruct (classic (occurs_neuron k (tau net i))) as [Ho|Ho].
  - rewrite H; [reflexivity | lia | apply tied_net_ordered; [lia | exact Ho]].
  - rewrite dneuron_not_occurs by exact Ho; ring.
Qed.

(* the adjoints above class K do not see the slopes of class K *)
Lemma ybars_class_indep (sla slb : nat -> R) (w : vec) (K : nat) :
  (forall j, cls j <> K -> sla j = slb j) ->
  forall m j, (K < cls j)%nat -> ybars_sl net sla w m j = ybars_sl net slb w m j.
Proof.
  intros Hs m; induction m as [|m IH]; intros j HK; simpl; [reflexivity|].
  destruct (Nat.eq_dec j (N - S m)); [|apply IH, HK].
  rewrite Hs by lia; f_equal; apply zbar_from_reads_above; intros i _ Hci; apply IH; lia.
Qed.

(* slt is sla = slb off class K, and their combination on class K *)
Lemma ybars_class_affine (sla slb slt : nat -> R) (w : vec) (t : R) (K : nat) :
  (forall j, cls j <> K -> sla j = slt j /\ slb j = slt j) ->
  (forall j, cls j = K -> slt j = (1 - t) * sla j + t * slb j) ->
  forall m j, ybars_sl net slt w m j = (1 - t) * ybars_sl net sla w m j + t * ybars_sl net slb w m j.
Proof.
  intros Hj Hk m; induction m as [|m IH]; intros j; simpl; [ring|].
  destruct (Nat.eq_dec j (N - S m)) as [Hjm|]; [|apply IH].
  rewrite (zbar_from_affine net w _ (ybars_sl net sla w m) (ybars_sl net slb w m) t)
    by (intros; apply IH).
  destruct (Nat.eq_dec (cls j) K) as [HK|HK].
  - assert (Hab : zbar_from net w (ybars_sl net sla w m) j = zbar_from net w (ybars_sl net slb w m) j).
    { apply zbar_from_reads_above; intros i _ Hci; apply (ybars_class_indep sla slb w K); [|lia].
      intros k Hk'; destruct (Hj k Hk') as [-> ->]; reflexivity. }
    rewrite Hab, (Hk j HK); ring.
  - destruct (Hj j HK) as [-> ->]; ring.
Qed.

Lemma grad_class_affine (sla slb slt : nat -> R) (w : vec) (t : R) (K p : nat) :
  (forall j, cls j <> K -> sla j = slt j /\ slb j = slt j) ->
  (forall j, cls j = K -> slt j = (1 - t) * sla j + t * slb j) ->
  grad_sl net slt w p = (1 - t) * grad_sl net sla w p + t * grad_sl net slb w p.
Proof.
  intros Hj Hk; unfold grad_sl.
  set (B := fun i => eval (n_input net) w (zvec net w) (dparam p (tau net i))).
  rewrite (sum_list_map_affine _ (fun i => ybar_sl net sla w i * B i) (fun i => ybar_sl net slb w i * B i) t).
  - unfold B; cbv beta; ring.
  - intros i _; unfold ybar_sl, B; rewrite (ybars_class_affine sla slb slt w t K Hj Hk); ring.
Qed.

(* AD with the theta-uniform choice is affine in theta_K *)
Theorem ad_theta_affine (w : vec) (th : nat -> R) (K : nat) (a b t : R) (p : nat) :
  ad net (theta_choice net cls w (upd th K ((1 - t) * a + t * b))) w p =
  (1 - t) * ad net (theta_choice net cls w (upd th K a)) w p +
  t * ad net (theta_choice net cls w (upd th K b)) w p.
Proof.
  apply (grad_class_affine _ _ _ w t K).
  - intros j Hj; unfold dchoice, theta_choice, upd.
    destruct (Nat.eq_dec (cls j) K); [congruence | split; reflexivity].
  - intros j Hj; unfold dchoice, theta_choice, upd.
    destruct (Nat.eq_dec (cls j) K); [|congruence].
    unfold act_deriv_choice; destruct (in_dec Req_EM_T (preact net w j) (kinks (sigma net j))); ring.
Qed.

(** * AD is a convex combination of class vertices *)

Lemma bool_theta_cons (th : nat -> R) (Ks : list nat) (K : nat) (B : nat -> bool) (v : bool) :
  ~ In K Ks ->
  bool_theta (upd th K (if v then 1 else 0)) Ks B = bool_theta th (K :: Ks) (bupd B K v).
Proof.
  intros HK; apply functional_extensionality; intros j; unfold bool_theta, bupd, upd.
  destruct (Nat.eq_dec j K) as [->|Hne].
  - destruct (in_dec Nat.eq_dec K Ks); [tauto|].
    destruct (in_dec Nat.eq_dec K (K :: Ks)) as [_|H]; [reflexivity | exfalso; apply H; now left].
  - destruct (in_dec Nat.eq_dec j Ks) as [Hin|Hn], (in_dec Nat.eq_dec j (K :: Ks)) as [Hin'|Hn'];
      try reflexivity.
    + exfalso; apply Hn'; now right.
    + exfalso; destruct Hin' as [->|]; [congruence | tauto].
Qed.

Lemma ad_theta_convex (w : vec) (Ks : list nat) : NoDup Ks ->
  forall th, (forall K, In K Ks -> 0 <= th K <= 1) ->
  exists cs : list (R * (nat -> bool)),
    (forall c, In c cs -> 0 <= fst c) /\ sum_list (map fst cs) = 1 /\
    forall p, ad net (theta_choice net cls w th) w p =
      sum_list (map (fun c => fst c * ad net (theta_choice net cls w (bool_theta th Ks (snd c))) w p) cs).
Proof.
  induction Ks as [|K Ks IH]; intros Hnd th Hth.
  - exists [(1, fun _ => true)]; split; [intros c [<-|[]]; simpl; lra|].
    split; [unfold sum_list; simpl; ring|]; intros p; unfold sum_list; simpl.
    replace (bool_theta th [] (fun _ => true)) with th by reflexivity; ring.
  - inversion Hnd as [|? ? HK Hnd']; subst.
    set (t := th K); assert (Ht : 0 <= t <= 1) by (apply Hth; now left).
    assert (Hup : forall v : bool, forall K', In K' Ks -> 0 <= upd th K (if v then 1 else 0) K' <= 1).
    { intros v K' HK'; unfold upd; destruct (Nat.eq_dec K' K) as [->|]; [destruct v; lra|].
      apply Hth; now right. }
    destruct (IH Hnd' _ (Hup false)) as [cL [HL0 [HL1 HL]]].
    destruct (IH Hnd' _ (Hup true)) as [cR [HR0 [HR1 HR]]].
    exists (map (fun c => ((1 - t) * fst c, bupd (snd c) K false)) cL ++
            map (fun c => (t * fst c, bupd (snd c) K true)) cR).
    split; [|split].
    + intros c Hc; apply in_app_or in Hc.
      destruct Hc as [Hc|Hc]; apply in_map_iff in Hc; destruct Hc as [c' [<- Hc']]; simpl.
      * apply Rmult_le_pos; [lra | now apply HL0].
      * apply Rmult_le_pos; [lra | now apply HR0].
    + rewrite map_app, sum_list_app, !map_map; cbn [fst snd].
      rewrite !sum_list_map_scal, HL1, HR1; ring.
    + intros p.
      assert (Heq : th = upd th K ((1 - t) * 0 + t * 1)).
      { apply functional_extensionality; intros j; unfold upd.
        destruct (Nat.eq_dec j K) as [->|]; [unfold t; ring | reflexivity]. }
      rewrite Heq at 1; rewrite ad_theta_affine, HL, HR.
      rewrite map_app, sum_list_app, !map_map; cbn [fst snd].
      rewrite <- !sum_list_map_scal; f_equal; apply sum_list_map_ext; intros c _.
      * rewrite <- (bool_theta_cons th Ks K (snd c) false HK); ring.
      * rewrite <- (bool_theta_cons th Ks K (snd c) true HK); ring.
Qed.

(* a class vertex is the vertex gradient of the pattern constant on classes *)
Lemma class_vertex_ad (w : vec) (th : nat -> R) (Ks : list nat) (B : nat -> bool) (p : nat) :
  (forall j, In j (kink_neurons net w) -> In (cls j) Ks) ->
  ad net (theta_choice net cls w (bool_theta th Ks B)) w p = vertex_grad net w (fun c => B (cls c)) p.
Proof.
  intros HKs; rewrite <- (vertex_ad_eq_grad net w (fun _ => 0)); apply ad_choice_ext; intros j Hj.
  unfold theta_choice, bool_theta, vertex_choice.
  destruct (in_dec Nat.eq_dec (cls j) Ks) as [_|Hn]; [|exfalso; apply Hn, HKs, Hj].
  destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [_|Hn]; [|contradiction].
  destruct (B (cls j)); ring.
Qed.

(** * Class vertices are limits of gradients *)

Section Realise.
Variables (w : vec) (B : nat -> bool).
Let b := fun c => B (cls c).

(* one radius for all kinked neurons of w *)
Lemma good_near_side_all :
  exists d, 0 < d /\ forall j, In j (kink_neurons net w) -> forall rho, 0 < rho < d ->
    good net w b j (preact net w j + (if b j then rho else - rho)).
Proof. apply radius_for_list; intros j _; apply good_near_side. Qed.

Lemma class_bias_of_kinked (c : nat) : In c (kink_neurons net w) ->
  class_bias net cls (cls c) (bias (cls c)).
Proof.
  intros Hc; apply kink_neurons_spec in Hc as [Hc Hk].
  apply (proj2 Htied c Hc), (is_kink_kinks_nonempty _ _ Hk).
Qed.

(* moving the bias of class K: lower classes stay, class K shifts *)
Lemma class_move_lower (K : nat) (v : vec) (t : R) (j : nat) :
  class_bias net cls K (bias K) -> (j < N)%nat -> (cls j < K)%nat ->
  preact net (upd v (bias K) t) j = preact net v j.
Proof.
  intros [_ Hcl] Hj HjK.
  assert (Hp : forall c, (c < N)%nat -> cls c <> K -> ~ occurs_param (bias K) (tau net c))
    by (intros c Hc Hne; apply (proj2 (Hcl c Hc)), Hne).
  unfold preact; rewrite eval_upd_not_occurs by (apply Hp; [exact Hj | lia]).
  apply eval_ext_neuron; intros i Hi.
  pose proof (wf_reads_below j Hj i Hi) as Hij; pose proof (tied_net_ordered j i Hj Hi).
  rewrite !zvals_lt by exact Hij.
  apply (class_bias_lower net cls K (bias K) wf_reads_below tied_net_ordered Hp); lia.
Qed.

Lemma class_move_shift (K : nat) (v : vec) (t : R) (c : nat) :
  class_bias net cls K (bias K) -> (c < N)%nat -> cls c = K ->
  preact net (upd v (bias K) t) c = preact net v c + (t - v (bias K)).
Proof.
  intros [_ Hcl] Hc HK.
  assert (Hp : forall c, (c < N)%nat -> cls c <> K -> ~ occurs_param (bias K) (tau net c))
    by (intros c' Hc' Hne; apply (proj2 (Hcl c' Hc')), Hne).
  destruct (proj1 (Hcl c Hc) HK) as [r [Hr Heq]].
  pose proof (class_bias_preact net cls K (bias K) wf_reads_below tied_net_ordered Hp v t c r Hc HK Hr Heq); lra.
Qed.

(* arbitrarily close to w, the kinked neurons of the classes below K are
   strictly on their chosen side *)
Lemma reach_good_tied (K : nat) : forall eps, 0 < eps ->
  exists h, supported W h /\ norm_max W h < eps /\
    forall j, In j (kink_neurons net w) -> (cls j < K)%nat -> good net w b j (preact net (vadd w h) j).
Proof.
  induction K as [|K IH]; intros eps He.
  - exists vzero; split; [apply supported_vzero|]; split; [rewrite norm_max_vzero; exact He|].
    intros; lia.
  - destruct (classic (exists c0, In c0 (kink_neurons net w) /\ cls c0 = K)) as [[c0 [Hc0 HK]]|Hno].
    2:{ destruct (IH eps He) as [h [Hs [Hn Hg]]]; exists h; split; [exact Hs|]; split; [exact Hn|].
        intros j Hj HjK; apply Hg; [exact Hj|].
        destruct (Nat.eq_dec (cls j) K); [exfalso; apply Hno; exists j; tauto | lia]. }
    assert (Hcb : class_bias net cls K (bias K)) by (rewrite <- HK; apply class_bias_of_kinked, Hc0).
    assert (Hp : (bias K < W)%nat) by apply Hcb.
    destruct good_near_side_all as [d [Hd Hgood]].
    set (eta := Rmin (d / 4) (eps / 8)).
    assert (Heta : 0 < eta /\ eta <= d / 4 /\ eta <= eps / 8).
    { unfold eta; generalize (Rmin_l (d / 4) (eps / 8)) (Rmin_r (d / 4) (eps / 8)); intros.
      repeat split; try lra; apply Rmin_glb_lt; lra. }
    destruct (preacts_close net Hwf w eta ltac:(lra)) as [d1 [Hd1 K1]].
    destruct (IH (Rmin (eps / 2) d1) ltac:(apply Rmin_glb_lt; lra)) as [h [Hs [Hn Hg]]].
    generalize (Rmin_l (eps / 2) d1) (Rmin_r (eps / 2) d1); intros Hn1 Hn2.
    set (v := vadd w h).
    set (delta := if B K then 2 * eta else - (2 * eta)).
    exists (vadd h (vscale delta (unit_vec (bias K)))); split; [|split].
    + apply supported_vadd; [exact Hs | apply supported_vscale, supported_unit_vec, Hp].
    + eapply Rle_lt_trans; [apply norm_max_triangle|].
      rewrite norm_max_scale_unit by exact Hp.
      assert (Rabs delta = 2 * eta) by (unfold delta; destruct (B K); [|rewrite Rabs_Ropp]; apply Rabs_pos_eq; lra).
      lra.
    + assert (Hv : forall i, vadd w (vadd h (vscale delta (unit_vec (bias K)))) i =
                             upd v (bias K) (v (bias K) + delta) i).
      { intros i; rewrite <- vadd_scale_unit_pointwise; unfold v, vadd; ring. }
      intros j Hj HjK; rewrite (preact_ext net _ _ j Hv).
      assert (HjN : (j < N)%nat) by (exact (proj1 (proj1 (kink_neurons_spec net w j) Hj))).
      destruct (Nat.eq_dec (cls j) K) as [HjK'|HjK'].
      * rewrite (class_move_shift K v _ j Hcb HjN HjK').
        assert (He1 : Rabs (preact net v j - preact net w j) < eta) by (apply K1; [exact Hs | lra | exact HjN]).
        apply Rabs_def2 in He1 as [He1 He2].
        set (e := preact net v j - preact net w j) in *.
        assert (Hbj : b j = B K) by (unfold b; rewrite HjK'; reflexivity).
        specialize (Hgood j Hj); rewrite Hbj in Hgood; unfold delta; destruct (B K).
        -- replace (preact net v j + (v (bias K) + 2 * eta - v (bias K)))
             with (preact net w j + (e + 2 * eta)) by (unfold e; ring).
           apply Hgood; lra.
        -- replace (preact net v j + (v (bias K) + - (2 * eta) - v (bias K)))
             with (preact net w j + - (2 * eta - e)) by (unfold e; ring).
           apply Hgood; lra.
      * rewrite (class_move_lower K v _ j Hcb HjN) by lia.
        apply Hg; [exact Hj | lia].
Qed.

(* each class vertex gradient is a limit of gradients of f at nearby points *)
Theorem class_vertex_clarke_limit : clarke_limit net w (vertex_grad net w b).
Proof.
  destruct (no_new_kinks net w Hwf) as [d0 [Hd0 K0]].
  destruct (classes_bounded cls (kink_neurons net w)) as [Km HKm].
  assert (Hseq : forall n : nat, exists h, supported W h /\ norm_max W h < Rmin (/ INR (S n)) d0 /\
            forall j, In j (kink_neurons net w) -> (cls j < Km)%nat ->
              good net w b j (preact net (vadd w h) j)).
  { intros n; apply reach_good_tied.
    apply Rmin_glb_lt; [apply Rinv_0_lt_compat, lt_0_INR; lia | exact Hd0]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported W (hs n) /\ norm_max W (hs n) < Rmin (/ INR (S n)) d0 /\
            forall j, In j (kink_neurons net w) -> (cls j < Km)%nat ->
              good net w b j (preact net (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  assert (Hsmall : forall n, norm_max W (hs n) < / INR (S n) /\ norm_max W (hs n) < d0).
  { intros n; destruct (Hhs n) as [_ [Hn _]].
    generalize (Rmin_l (/ INR (S n)) d0) (Rmin_r (/ INR (S n)) d0); intros; split; lra. }
  exists (fun n => vadd w (hs n)), (fun n => grad_sl net (vertex_slopes net w b (vadd w (hs n))) (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [M HM]; exists M; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HM, Hn].
  - intros n; apply (good_point_differentiable net w b Hwf).
    + intros j _ Hj; apply Hhs; [exact Hj | apply HKm, Hj].
    + intros j Hj Hjk; apply K0; [apply Hhs | apply (proj2 (Hsmall n)) | exact Hj | exact Hjk].
  - intros p Hp eps He.
    destruct (grad_sl_continuous net w Hwf (vertex_slopes net w b)
                (vertex_slopes_continuous net w b Hwf) p eps He) as [d [Hd K]].
    destruct (inv_S_small d Hd) as [M HM]; exists M; intros n Hn.
    rewrite <- vertex_slopes_at_w; apply K;
      [apply Hhs | eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HM, Hn]].
Qed.

End Realise.

(** * T4 for tied-bias networks *)

(* with theta_K in [0, 1] given per class, on the kinked neurons at w *)
Theorem T7_ad_in_clarke_theta (theta : nat -> R) (D : nat -> R) (w : vec) :
  (forall K, 0 <= theta K <= 1) ->
  (forall c, In c (kink_neurons net w) -> D c = theta_choice net cls w theta c) ->
  in_clarke net w (ad net D w).
Proof.
  intros Hth HD.
  set (Ks := nodup Nat.eq_dec (map cls (kink_neurons net w))).
  assert (HKs : forall j, In j (kink_neurons net w) -> In (cls j) Ks)
    by (intros j Hj; apply nodup_In, in_map, Hj).
  destruct (ad_theta_convex w Ks (NoDup_nodup _ _) theta (fun K _ => Hth K)) as [cs [H0 [H1 H]]].
  exists (map (fun c => (fst c, vertex_grad net w (fun k => snd c (cls k)))) cs); split; [|split].
  - intros c Hc; apply in_map_iff in Hc as [c' [<- Hc']]; cbn [fst snd].
    split; [now apply H0 | apply class_vertex_clarke_limit].
  - rewrite map_map; exact H1.
  - intros p _; rewrite (ad_choice_ext net D (theta_choice net cls w theta) w p HD), H, map_map.
    apply sum_list_map_ext; intros c _; cbn [fst snd]; rewrite class_vertex_ad by exact HKs; reflexivity.
Qed.

(* with a choice function Dn c per neuron, theta-uniform per class *)
Theorem T7_tied_ad_in_clarke (theta : nat -> R) (Dn : nat -> R -> R) (w : vec) :
  (forall K, 0 <= theta K <= 1) ->
  (forall c y, (c < N)%nat -> is_kink (sigma net c) y ->
     Dn c y = slope_left (sigma net c) y + theta (cls c) * (slope_right (sigma net c) y - slope_left (sigma net c) y)) ->
  in_clarke net w (ad net (fun c => Dn c (preact net w c)) w).
Proof.
  intros Hth HD; apply (T7_ad_in_clarke_theta theta); [exact Hth|].
  intros c Hc; apply kink_neurons_spec in Hc as [Hc Hk]; rewrite HD by assumption; reflexivity.
Qed.

End TiedClarke.
