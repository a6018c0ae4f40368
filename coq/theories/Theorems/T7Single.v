(* An exact finite N&S condition for tied-bias networks (THEORY.md section
   8.1, T6_differentiable_iff_groups / tied_tangent_T7; issue 18, "Coq V",
   item 3) at points where all kinked neurons lie in one class m (batches,
   convolutions, token-wise layers of any shape; in a batch: one base neuron
   carries all the kinks).  With T the tangent network at w:
   - below m nothing is kinked, so the tangent y_c(v) of a neuron c of
     class m is linear in v, with coefficients a_c p = y_c(e_p) (lin_form);
   - f is differentiable at w iff for every neuron c, the weights
     kappa_d = zeta_d (sigma'_+ - sigma'_-)(y_d) of the neurons d with the
     same form a_d = a_c sum to 0 (single_class_groups).
   Proof: differentiable iff phi_w linear (Tangent.v); at the topmost kinked
   class, phi_w is linear iff the left network is (here always: nothing is
   kinked there) and the kappa cancel by groups of equal tangent values in
   every direction (T7Tangent.v); for linear tangents, these groups in every
   direction are the groups of equal forms (forms_groups_iff: a direction
   separating the distinct forms exists; conversely every group of equal
   values is a union of groups of equal forms).  Computation/QTied.v
   computes the condition over Q; T7Independent.v extends it to kinks in
   several classes that do not read each other. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD Tangent TangentClasses
  T7Tangent Tied T7Correct.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* forms a c and a c0 agree on the coordinates L *)
Definition forms_agree (a : nat -> nat -> R) (L : list nat) (c0 c : nat) : bool :=
  forallb (fun p => if Req_EM_T (a c p) (a c0 p) then true else false) L.

(* the value of the linear form a c at v *)
Definition form_at (W : nat) (a : nat -> nat -> R) (v : vec) (c : nat) : R :=
  sumn W (fun p => v p * a c p).

(** * Sums over classes of an equivalence *)

Lemma sum_list_filter_if (l : list nat) (g : nat -> bool) (f : nat -> R) :
  sum_list (map f (filter g l)) = sum_list (map (fun d => if g d then f d else 0) l).
Proof.
  induction l as [|a l IH]; [reflexivity|]; simpl.
  destruct (g a); unfold sum_list in *; simpl; rewrite IH; ring.
Qed.

Lemma sum_list_map_plus_if (l : list nat) (f g : nat -> R) :
  sum_list (map (fun d => f d + g d) l) = sum_list (map f l) + sum_list (map g l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

(* a predicate constant on the classes of E: its sum is a sum of class sums *)
Lemma class_sums_zero (E : nat -> nat -> bool) (P : nat -> bool) (k : nat -> R) :
  (forall c d, E c d = E d c) -> (forall c d e, E c d = true -> E d e = true -> E c e = true) ->
  (forall c, E c c = true) -> (forall c d, E c d = true -> P c = P d) ->
  forall l, (forall c, In c l -> sum_list (map (fun d => if E c d then k d else 0) l) = 0) ->
  sum_list (map (fun d => if P d then k d else 0) l) = 0.
Proof.
  intros Hsym Htr Hrefl HP l; remember (length l) as n eqn:Hn; revert l Hn.
  induction n as [n IH] using lt_wf_ind; intros l Hn Hcl.
  destruct l as [|c l']; [reflexivity|].
  set (l := c :: l').
  rewrite (sum_list_map_ext _ (fun d => (if E c d then (if P d then k d else 0) else 0) +
                                      (if negb (E c d) then (if P d then k d else 0) else 0)))
    by (intros d _; destruct (E c d); simpl; ring).
  rewrite sum_list_map_plus_if.
  assert (H1 : sum_list (map (fun d => if E c d then (if P d then k d else 0) else 0) l) = 0).
  { destruct (P c) eqn:Hc.
    - transitivity (sum_list (map (fun d => if E c d then k d else 0) l));
        [|apply Hcl; left; reflexivity].
      apply sum_list_map_ext; intros d _.
      destruct (E c d) eqn:Hcd; [rewrite <- (HP c d Hcd), Hc; reflexivity | reflexivity].
    - apply sum_list_map_zero; intros d _.
      destruct (E c d) eqn:Hcd; [rewrite <- (HP c d Hcd), Hc|]; reflexivity. }
  rewrite H1, Rplus_0_l, <- sum_list_filter_if.
  apply (IH (length (filter (fun d => negb (E c d)) l))); [|reflexivity|].
  - subst n; unfold l; simpl; rewrite Hrefl; simpl.
    pose proof (filter_length_le (fun d => negb (E c d)) l'); lia.
  - intros c' Hc'; apply filter_In in Hc' as [Hc' Hnc']; apply Bool.negb_true_iff in Hnc'.
    rewrite sum_list_filter_if.
    transitivity (sum_list (map (fun d => if E c' d then k d else 0) l)); [|apply Hcl, Hc'].
    apply sum_list_map_ext; intros d _.
    destruct (E c d) eqn:Hcd, (E c' d) eqn:Hc'd; simpl; try reflexivity.
    exfalso; rewrite (Htr c d c' Hcd ltac:(rewrite Hsym; exact Hc'd)) in Hnc'; discriminate.
Qed.

(** * Groups of equal values in every direction = groups of equal forms *)

Section Forms.
Variables (W N : nat) (a : nat -> nat -> R) (k : nat -> R).

Lemma forms_agree_spec (L : list nat) (c0 c : nat) :
  forms_agree a L c0 c = true <-> forall p, In p L -> a c p = a c0 p.
Proof.
  unfold forms_agree; rewrite forallb_forall; split; intros H p Hp; specialize (H p Hp);
    destruct (Req_EM_T (a c p) (a c0 p)); congruence.
Qed.

Lemma form_at_shift (v : vec) (t : R) (p c : nat) : (p < W)%nat ->
  form_at W a (vadd v (vscale t (unit_vec p))) c = form_at W a v c + t * a c p.
Proof.
  intros Hp; unfold form_at.
  rewrite <- (sumn_indicator_l W p (a c) Hp), <- sumn_scal, <- sumn_plus.
  apply sumn_ext; intros q _; unfold vadd, vscale, unit_vec.
  destruct (Nat.eq_dec q p), (Nat.eq_dec p q); subst; try congruence; ring.
Qed.

Lemma avoid_values_forms (n : nat) (f : nat -> R) : exists t, forall c, (c < n)%nat -> t <> f c.
Proof.
  exists (sumn n (fun i => Rabs (f i)) + 1); intros c Hc Heq.
  pose proof (sumn_abs_bound n f c Hc); pose proof (Rle_abs (f c)); lra.
Qed.

(* moving along e_p separates the forms that differ at p *)
Lemma forms_groups_step (L : list nat) :
  (forall p, In p L -> (p < W)%nat) ->
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (form_at W a v c) tau then k c else 0) = 0) ->
  forall c0 v, supported W v -> forall tau,
    sumn N (fun c => if Req_EM_T (form_at W a v c) tau then (if forms_agree a L c0 c then k c else 0) else 0) = 0.
Proof.
  intros HW Hgroups; induction L as [|p L IH]; intros c0 v Hv tau.
  - simpl; apply Hgroups, Hv.
  - assert (HpW : (p < W)%nat) by (apply HW; left; reflexivity).
    set (b := a c0 p).
    destruct (avoid_values_forms N (fun c => (tau - form_at W a v c) / (a c p - b))) as [t Ht].
    set (v' := vadd v (vscale t (unit_vec p))).
    assert (Hv' : supported W v')
      by (apply supported_vadd; [exact Hv | apply supported_vscale, supported_unit_vec, HpW]).
    etransitivity; [|exact (IH (fun q Hq => HW q (or_intror Hq)) c0 v' Hv' (tau + t * b))].
    apply sumn_ext; intros c Hc.
    unfold v'; rewrite form_at_shift by exact HpW; simpl; fold b.
    destruct (Req_EM_T (a c p) b) as [Ha|Ha].
    + rewrite Ha; destruct (Req_EM_T (form_at W a v c) tau), (Req_EM_T (form_at W a v c + t * b) (tau + t * b));
        try reflexivity; lra.
    + destruct (Req_EM_T (form_at W a v c + t * a c p) (tau + t * b)) as [He|He].
      * exfalso; apply (Ht c Hc); unfold Rdiv.
        replace (tau - form_at W a v c) with (t * (a c p - b)) by lra; field; lra.
      * destruct (Req_EM_T (form_at W a v c) tau); [|reflexivity].
        destruct (forms_agree a L c0 c); reflexivity.
Qed.

Lemma forms_groups_iff :
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (form_at W a v c) tau then k c else 0) = 0) <->
  (forall c0, (c0 < N)%nat -> sumn N (fun c => if forms_agree a (seq 0 W) c0 c then k c else 0) = 0).
Proof.
  split.
  - intros H c0 _.
    assert (H0 := forms_groups_step (seq 0 W) (fun p Hp => proj2 (proj1 (in_seq W 0 p) Hp)) H c0 vzero
                    (supported_vzero W) 0).
    transitivity (sumn N (fun c => if Req_EM_T (form_at W a vzero c) 0
                                   then (if forms_agree a (seq 0 W) c0 c then k c else 0) else 0));
      [|exact H0].
    apply sumn_ext; intros c _.
    assert (Hz : form_at W a vzero c = 0)
      by (unfold form_at; rewrite (sumn_ext _ _ (fun _ => 0 * 0)) by (intros; unfold vzero; ring);
          rewrite sumn_scal; ring).
    rewrite Hz; destruct (Req_EM_T 0 0); [reflexivity | lra].
  - intros H v _ tau; unfold sumn.
    rewrite (sum_list_map_ext _ (fun d => if (if Req_EM_T (form_at W a v d) tau then true else false)
                                          then k d else 0)) by (intros; destruct (Req_EM_T _ _); reflexivity).
    apply (class_sums_zero (fun c d => forms_agree a (seq 0 W) c d)
             (fun d => if Req_EM_T (form_at W a v d) tau then true else false) k).
    + intros c d; apply Bool.eq_true_iff_eq; rewrite !forms_agree_spec.
      split; intros Hx p Hp; symmetry; apply Hx, Hp.
    + intros c d e; rewrite !forms_agree_spec; intros H1 H2 p Hp; rewrite H2, H1 by exact Hp; reflexivity.
    + intros c; apply forms_agree_spec; reflexivity.
    + intros c d Hcd; rewrite forms_agree_spec in Hcd.
      assert (Hf : form_at W a v c = form_at W a v d).
      { unfold form_at; apply sumn_ext; intros p Hp; rewrite Hcd by (apply in_seq; lia); reflexivity. }
      rewrite Hf; reflexivity.
    + intros c Hc; apply in_seq in Hc.
      transitivity (sumn N (fun d => if forms_agree a (seq 0 W) c d then k d else 0)); [|apply H; lia].
      unfold sumn; apply sum_list_map_ext; intros d _; destruct (forms_agree a (seq 0 W) c d); reflexivity.
Qed.

End Forms.

(** * Tangents with linear activations are linear in the direction *)

Lemma sumn_unit_vec_l (W p : nat) (f : nat -> R) : (p < W)%nat ->
  sumn W (fun q => unit_vec p q * f q) = f p.
Proof. intros Hp; rewrite <- dot_sumn; apply dot_unit_vec_l, Hp. Qed.

Lemma tz_lin_linear (T : tnet) (x : nat -> R) (v : vec) : forall c, (c < t_N T)%nat ->
  tz T (lin x) v c = sumn (t_W T) (fun p => v p * tz T (lin x) (unit_vec p) c) /\
  ty T (lin x) v c = sumn (t_W T) (fun p => v p * ty T (lin x) (unit_vec p) c).
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : ty T (lin x) v c = sumn (t_W T) (fun p => v p * ty T (lin x) (unit_vec p) c)).
  { unfold ty at 1.
    rewrite (sumn_ext c (fun i => tz T (lin x) v i * t_B T c i)
               (fun i => sumn (t_W T) (fun p => v p * (tz T (lin x) (unit_vec p) i * t_B T c i)))).
    2:{ intros i Hi; rewrite (proj1 (IH i Hi ltac:(lia))), Rmult_comm, <- sumn_scal.
        apply sumn_ext; intros; ring. }
    rewrite sumn_swap, <- sumn_plus; apply sumn_ext; intros p Hp.
    unfold ty; rewrite sumn_unit_vec_l by exact Hp; rewrite sumn_scal; ring. }
  split; [|exact Hy].
  rewrite tz_eq, Hy by exact Hc; unfold lin; rewrite <- sumn_scal; apply sumn_ext; intros p _.
  rewrite tz_eq by exact Hc; unfold lin; ring.
Qed.

(** * The network *)

(* a_c p: the tangent of y_c along e_p, all activations on their left slopes *)
Definition lin_form (net : network) (w : vec) (c p : nat) : R :=
  ty (tnet_of net w) (lin (t_sl (tnet_of net w))) (unit_vec p) c.

(* for every neuron c0, the kinks of class m with the form of c0 cancel *)
Definition single_class_groups (net : network) (cls : nat -> nat) (w : vec) (m : nat) : Prop :=
  forall c0, (c0 < n_size net)%nat ->
    sumn (n_size net) (fun c => if forms_agree (lin_form net w) (seq 0 (n_params net)) c0 c
                                then kappa cls (tnet_of net w) m c else 0) = 0.

Section Single.
Variables (net : network) (cls bias : nat -> nat) (w : vec).
Hypothesis Hwf : wf net.
Hypothesis Htied : tied_bias net cls bias.
Local Notation T := (tnet_of net w).
Local Notation W := (n_params net).
Local Notation N := (n_size net).

Lemma unkinked_slopes (c : nat) : (c < N)%nat -> ~ In c (kink_neurons net w) -> t_sl T c = t_sr T c.
Proof.
  intros Hc Hn; cbn [t_sl t_sr tnet_of]; apply not_kink_slopes; intros Hk.
  apply Hn, kink_neurons_spec; split; assumption.
Qed.

Variable m : nat.
Hypothesis Hm : forall c, In c (kink_neurons net w) -> cls c = m.

Lemma kinked_in_m (c : nat) : (c < N)%nat -> t_sl T c <> t_sr T c -> cls c = m.
Proof.
  intros Hc Hne; apply Hm; destruct (in_dec Nat.eq_dec c (kink_neurons net w)) as [Hin|Hn];
    [exact Hin | exfalso; apply Hne, unkinked_slopes; assumption].
Qed.

Lemma kappa_class (c : nat) : kappa cls T m c <> 0 -> cls c = m.
Proof. unfold kappa; destruct (Nat.eq_dec (cls c) m); [auto | intros H; lra]. Qed.

(* the left network at m has all activations linear: it is linear *)
Lemma left_linear : tlinear (left_tnet cls T m) (hat (left_tnet cls T m)) (grad_sl net (t_sl T) w).
Proof.
  intros v _; transitivity (tout T (lin (t_sl T)) v); [|apply tout_lin_dot, Hwf].
  change (tout (left_tnet cls T m) (hat (left_tnet cls T m)) v) with (tout T (hat (left_tnet cls T m)) v).
  apply tout_ext; intros c t Hc; unfold hat, lin; cbn [left_tnet t_sl t_sr].
  destruct (Nat.eq_dec (cls c) m) as [|Hne]; [apply hat2_same|].
  destruct (Req_dec (t_sl T c) (t_sr T c)) as [E|E];
    [rewrite <- E; apply hat2_same | exfalso; apply Hne, kinked_in_m; assumption].
Qed.

(* the tangents of class m are the linear forms *)
Lemma ty_hat_form (v : vec) (c : nat) : (c < N)%nat -> cls c = m ->
  ty T (hat T) v c = form_at W (lin_form net w) v c.
Proof.
  intros Hc Hcm.
  assert (HO := tied_ordered cls bias T (tnet_of_tied net cls bias w Hwf Htied)).
  assert (Hag : forall c' t, (c' < t_N T)%nat -> (cls c' < m)%nat -> hat T c' t = lin (t_sl T) c' t).
  { intros c' t Hc' Hlt; unfold hat, lin.
    destruct (Req_dec (t_sl T c') (t_sr T c')) as [E|E];
      [rewrite <- E; apply hat2_same | exfalso; pose proof (kinked_in_m c' Hc' E); lia]. }
  rewrite (proj2 (lower_agree_cls cls T m HO (hat T) (lin (t_sl T)) v Hag c Hc)) by lia.
  exact (proj2 (tz_lin_linear T (t_sl T) v c Hc)).
Qed.

Lemma groups_iff_single :
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa cls T m c else 0) = 0) <->
  single_class_groups net cls w m.
Proof.
  unfold single_class_groups; rewrite <- (forms_groups_iff W N (lin_form net w) (kappa cls T m)).
  assert (E : forall v tau,
    sumn N (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa cls T m c else 0) =
    sumn N (fun c => if Req_EM_T (form_at W (lin_form net w) v c) tau then kappa cls T m c else 0)).
  { intros v tau; apply sumn_ext; intros c Hc.
    destruct (Req_dec (kappa cls T m c) 0) as [Hk|Hk];
      [rewrite Hk; destruct (Req_EM_T _ _), (Req_EM_T _ _); reflexivity|].
    rewrite ty_hat_form by (exact Hc || exact (kappa_class c Hk)); reflexivity. }
  split; intros H v Hv tau; [rewrite <- E | rewrite E]; apply H, Hv.
Qed.

(* the exact condition *)
Theorem tied_single_class_iff : differentiable W (net_eval net) w <-> single_class_groups net cls w m.
Proof.
  destruct (classic (exists c0, In c0 (kink_neurons net w))) as [[c0 Hc0]|Hno].
  2:{ split; intros _.
    + intros c1 _; rewrite (sumn_ext _ _ (fun _ => 0 * 0)); [rewrite sumn_scal; ring|].
      intros c Hc; unfold kappa; rewrite unkinked_slopes by (exact Hc || (intros Hin; apply Hno; exists c; exact Hin)).
      destruct (forms_agree _ _ _ _), (Nat.eq_dec (cls c) m); ring.
    + exists (ad net (fun _ => 0) w); apply no_kink_ad_correct; [assumption|].
      destruct (kink_neurons net w) as [|c l]; [reflexivity | exfalso; apply Hno; exists c; left; reflexivity]. }
  - pose proof (Hm c0 Hc0) as Hm0.
    apply kink_neurons_spec in Hc0 as [Hc0 Hk0]; pose proof (proj2 Hk0) as Hs0.
    assert (HT := tnet_of_tied net cls bias w Hwf Htied).
    assert (Hup : forall c, (c < t_N T)%nat -> (m < cls c)%nat -> t_sl T c = t_sr T c).
    { intros c Hc Hlt; destruct (Req_dec (t_sl T c) (t_sr T c)) as [|E]; [assumption|].
      pose proof (kinked_in_m c Hc E); lia. }
    assert (HG := fun G => topmost_linear_iff_groups_tied cls bias T m c0 HT Hc0 Hm0 Hs0 Hup G).
    rewrite <- groups_iff_single; split.
    + intros [g Hd]; exact (proj2 (proj1 (HG g) (tangent_linear_of_differentiable net w Hwf g Hd))).
    + intros Hgr; exists (grad_sl net (t_sl T) w).
      apply (differentiable_of_tangent_linear net w Hwf), (HG _); split; [apply left_linear | exact Hgr].
Qed.

End Single.
