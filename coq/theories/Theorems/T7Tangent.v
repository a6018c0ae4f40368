(* T7 on tangent networks (THEORY.md section 8.1, "Tied networks"; issue
   18, item 1): T6Tangent.v's theorem with the bias required of the kinked
   classes only.  A tied tangent network: every neuron c has a class base c;
   neurons only read neurons of lower classes; for every neuron c' that is
   kinked (t_sl c' <> t_sr c'), the direction coordinate bias (base c') enters
   every neuron of the class of c' with coefficient 1 and no other neuron.
   Classes with no kinked neuron need no bias (identity or smooth
   activations, or kinked activations none of whose neurons sits on a kink
   at w).  A batched tangent network is a tied one (batched_tnet_tied).
   The proof is T6Tangent.v's, word for word, except that the step at the
   topmost kinked class m starts from a kinked neuron c0 of m (whose class
   has a bias), and that the left and psi networks stay tied because they
   have fewer kinked neurons.  The definitions (left_tnet, Lam, kappa,
   psi_tnet, theta_slopes, tlinear) and the lemmas that do not use the bias
   are T6Tangent.v's. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Network AD Tangent T6Tangent.
Import ListNotations.
Open Scope R_scope.

Section TiedTangent.
Variables (base bias : nat -> nat) (theta : nat -> R).

Local Notation theta_slopes := (T6Tangent.theta_slopes base theta).
Local Notation left_tnet := (T6Tangent.left_tnet base).
Local Notation injF := (T6Tangent.injF base).
Local Notation Lam := (T6Tangent.Lam base).
Local Notation zeta := (T6Tangent.zeta base).
Local Notation kappa := (T6Tangent.kappa base).
Local Notation psi_tnet := (T6Tangent.psi_tnet base).
Local Notation injF_at := (T6Tangent.injF_at base).
Local Notation injF_off := (T6Tangent.injF_off base).

(** * Definitions *)

(* the bias of the class of every kinked neuron moves exactly that class *)
Definition tied_tnet (T : tnet) : Prop :=
  (forall c j, (c < t_N T)%nat -> (c <= j)%nat -> t_B T c j = 0) /\
  (forall c', (c' < t_N T)%nat -> t_sl T c' <> t_sr T c' ->
     (bias (base c') < t_W T)%nat /\
     forall c, (c < t_N T)%nat ->
       t_A T c (bias (base c')) = if Nat.eq_dec (base c) (base c') then 1 else 0) /\
  (forall c j, (j < c)%nat -> (c < t_N T)%nat -> t_B T c j <> 0 -> (base j < base c)%nat).

Lemma batched_tnet_tied (T : tnet) : batched_tnet base bias T -> tied_tnet T.
Proof.
  intros (H0 & HA & HW & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' _; split; [apply HW, Hc'|]; intros c Hc; apply HA; assumption.
Qed.

(** * Lemmas on one tied tangent network *)

Section Step.
Variables (T : tnet) (m : nat).
Hypothesis HT : tied_tnet T.
Local Notation W := (t_W T).
Local Notation N := (t_N T).
Local Notation Lam_ext := (T6Tangent.Lam_ext base T m).
Local Notation Lam_scal := (T6Tangent.Lam_scal base T m).
Local Notation Lam_zero := (T6Tangent.Lam_zero base T m).

Lemma HB0_tied c j : (c < N)%nat -> (c <= j)%nat -> t_B T c j = 0.
Proof. apply (proj1 HT). Qed.
Lemma HA_tied c' c : (c' < N)%nat -> t_sl T c' <> t_sr T c' -> (c < N)%nat ->
  t_A T c (bias (base c')) = if Nat.eq_dec (base c) (base c') then 1 else 0.
Proof. intros Hc' Hk Hc; apply (proj2 (proj1 (proj2 HT) c' Hc' Hk)), Hc. Qed.
Lemma HW_tied c : (c < N)%nat -> t_sl T c <> t_sr T c -> (bias (base c) < W)%nat.
Proof. intros Hc Hk; apply (proj1 (proj1 (proj2 HT) c Hc Hk)). Qed.
Lemma HBase_tied c j : (j < c)%nat -> (c < N)%nat -> t_B T c j <> 0 -> (base j < base c)%nat.
Proof. apply (proj2 (proj2 HT)). Qed.
(* the tangent of y_c only reads neurons of lower base *)
Lemma ty_lower_sum_tied (F F' : nat -> R -> R) (v v' : vec) (c : nat) :
  (c < N)%nat -> (forall i, (i < c)%nat -> (base i < base c)%nat -> tz T F v i = tz T F' v' i) ->
  sumn c (fun i => tz T F v i * t_B T c i) = sumn c (fun i => tz T F' v' i * t_B T c i).
Proof.
  intros Hc H; apply sumn_ext; intros i Hi.
  destruct (Req_dec (t_B T c i) 0) as [->|Hne]; [ring|].
  rewrite H; [reflexivity | exact Hi | apply HBase_tied; assumption].
Qed.

(* F and F' agree below m: same values below m, same tangents up to m *)
Lemma lower_agree_tied (F F' : nat -> R -> R) (v : vec) :
  (forall c t, (c < N)%nat -> (base c < m)%nat -> F c t = F' c t) ->
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F v c = tz T F' v c) /\
    ((base c <= m)%nat -> ty T F v c = ty T F' v c).
Proof.
  intros HF c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : (base c <= m)%nat -> ty T F v c = ty T F' v c).
  { intros Hb; unfold ty; f_equal; apply ty_lower_sum_tied; [exact Hc|].
    intros i Hi Hbi; apply (IH i Hi); lia. }
  split; [|exact Hy]; intros Hb.
  rewrite !tz_eq by exact Hc; rewrite HF, Hy by lia; reflexivity.
Qed.

Section Bias.
Variable c0 : nat.
Hypothesis Hc0 : (c0 < N)%nat.
Hypothesis Hm : base c0 = m.
Hypothesis Hk0 : t_sl T c0 <> t_sr T c0.
Let b := bias m.

Lemma b_lt_tied : (b < W)%nat.
Proof. unfold b; rewrite <- Hm; apply HW_tied; assumption. Qed.

Lemma A_b_tied (c : nat) : (c < N)%nat -> t_A T c b = if Nat.eq_dec (base c) m then 1 else 0.
Proof. intros Hc; unfold b; rewrite <- Hm; apply HA_tied; assumption. Qed.

(* moving v_b by t: nothing below m moves, every copy of m moves by t *)
Lemma bias_move_tied (F : nat -> R -> R) (v : vec) (t : R) :
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F (vadd v (vscale t (unit_vec b))) c = tz T F v c) /\
    ((base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec b))) c =
                          ty T F v c + (if Nat.eq_dec (base c) m then t else 0)).
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : (base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec b))) c =
                                    ty T F v c + (if Nat.eq_dec (base c) m then t else 0)).
  { intros Hb; unfold ty; rewrite sumn_shift_unit by exact b_lt_tied.
    rewrite (ty_lower_sum_tied F F (vadd v (vscale t (unit_vec b))) v c Hc);
      [|intros i Hi Hbi; apply (IH i Hi); lia].
    rewrite A_b_tied by exact Hc; destruct (Nat.eq_dec (base c) m); ring. }
  split; [|exact Hy]; intros Hb.
  rewrite !tz_eq by exact Hc; rewrite Hy by lia.
  destruct (Nat.eq_dec (base c) m); [lia|]; rewrite Rplus_0_r; reflexivity.
Qed.

(* superposition: what is injected at U enters the output through Lam *)
Lemma superposition_nodes_tied (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
  (forall c t', (c < N)%nat -> (m < base c)%nat -> F c t' = t_sl T c * t') ->
  forall c, (c < N)%nat ->
    tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) c - tz T (injF F m xi') v c =
    tz T (injF (fun c t => t_sl T c * t) m (fun c => xi c - xi' c)) vzero c.
Proof.
  intros HF c; induction c as [c IH] using lt_wf_ind; intros Hc.
  set (L := injF (fun c t => t_sl T c * t) m (fun c => xi c - xi' c)).
  destruct (lt_eq_lt_dec (base c) m) as [[Hlt|Heq]|Hgt].
  - (* below m: nothing moves, and the injected network is 0 there *)
    assert (Hlow : forall c', (c' < N)%nat -> (base c' < m)%nat -> tz T L vzero c' = 0).
    { intros c'; induction c' as [c' IH'] using lt_wf_ind; intros Hc' Hb'.
      rewrite tz_eq by exact Hc'; unfold L; rewrite injF_off by lia.
      unfold ty; rewrite (sumn_ext _ _ (fun p => 0 * 0)) by (intros; unfold vzero; ring).
      rewrite sumn_scal, (sumn_ext c' _ (fun i => 0 * 0)); [rewrite sumn_scal; ring|].
      intros i Hi; destruct (Req_dec (t_B T c' i) 0) as [->|Hne]; [ring|].
      pose proof (HBase_tied c' i Hi Hc' Hne); fold L; rewrite IH'; [ring | exact Hi | lia | lia]. }
    rewrite (Hlow c Hc Hlt).
    assert (HFa : forall xi0 c' t', (c' < N)%nat -> (base c' < m)%nat -> injF F m xi0 c' t' = F c' t')
      by (intros xi0 c' t' _ Hb'; unfold injF; destruct (Nat.eq_dec (base c') m); [lia | reflexivity]).
    rewrite (proj1 (lower_agree_tied (injF F m xi) F _ (HFa xi) c Hc) Hlt).
    rewrite (proj1 (lower_agree_tied (injF F m xi') F _ (HFa xi') c Hc) Hlt).
    rewrite (proj1 (bias_move_tied F v t c Hc) Hlt); ring.
  - (* the copies of m: the injected values *)
    rewrite !tz_eq by exact Hc; unfold L; rewrite !injF_at by exact Heq; reflexivity.
  - (* above m: linear, and v_b is not read *)
    rewrite !tz_eq by exact Hc; unfold L; rewrite !injF_off by lia.
    rewrite !HF by assumption; rewrite <- Rmult_minus_distr_l; f_equal.
    unfold ty; rewrite sumn_shift_unit by exact b_lt_tied; rewrite A_b_tied by exact Hc.
    destruct (Nat.eq_dec (base c) m); [lia|].
    rewrite (sumn_ext W (fun p => vzero p * t_A T c p) (fun _ => 0 * 0)) by (intros; unfold vzero; ring).
    rewrite sumn_scal.
    transitivity (sumn c (fun i => (tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) i -
                                   tz T (injF F m xi') v i) * t_B T c i)).
    + rewrite (sumn_ext c (fun i => (tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) i -
                                   tz T (injF F m xi') v i) * t_B T c i)
                         (fun i => tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) i * t_B T c i -
                                   tz T (injF F m xi') v i * t_B T c i)) by (intros; ring).
      rewrite sumn_minus; ring.
    + rewrite Rmult_0_l, Rplus_0_l; apply sumn_ext; intros i Hi; fold L; rewrite IH by lia; reflexivity.
Qed.

Lemma superposition_tied (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
  (forall c t', (c < N)%nat -> (m < base c)%nat -> F c t' = t_sl T c * t') ->
  tout T (injF F m xi) (vadd v (vscale t (unit_vec b))) - tout T (injF F m xi') v =
  t * t_d T b + Lam T m (fun c => xi c - xi' c).
Proof.
  intros HF; unfold Lam, tout; rewrite sumn_shift_unit by exact b_lt_tied.
  rewrite (sumn_ext W (fun p => vzero p * t_d T p) (fun _ => 0 * 0)) by (intros; unfold vzero; ring).
  rewrite sumn_scal.
  rewrite (sumn_ext N (fun j => tz T (injF (fun c t => t_sl T c * t) m (fun c => xi c - xi' c)) vzero j * t_g T j)
                      (fun j => tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) j * t_g T j -
                                tz T (injF F m xi') v j * t_g T j)).
  2:{ intros j Hj; rewrite <- (superposition_nodes_tied F xi xi' v t HF j Hj); ring. }
  rewrite sumn_minus; ring.
Qed.

End Bias.

(** * Lam is linear in the injected values *)

Lemma Lam_sub_tied (xi xi' : nat -> R) (c0 : nat) :
  (c0 < N)%nat -> base c0 = m -> t_sl T c0 <> t_sr T c0 ->
  Lam T m xi - Lam T m xi' = Lam T m (fun c => xi c - xi' c).
Proof.
  intros Hc0 Hm Hk0.
  assert (H := superposition_tied c0 Hc0 Hm Hk0 (fun c t => t_sl T c * t) xi xi' vzero 0 (fun _ _ _ _ => eq_refl)).
  rewrite Rmult_0_l, Rplus_0_l, vscale_0_l, vadd_vzero_r in H; exact H.
Qed.

Lemma Lam_add_tied (xi xi' : nat -> R) (c0 : nat) :
  (c0 < N)%nat -> base c0 = m -> t_sl T c0 <> t_sr T c0 ->
  Lam T m (fun c => xi c + xi' c) = Lam T m xi + Lam T m xi'.
Proof.
  intros Hc0 Hm Hk0.
  assert (H := Lam_sub_tied (fun c => xi c + xi' c) xi' c0 Hc0 Hm Hk0).
  cbv beta in H; rewrite (Lam_ext (fun c => xi c + xi' c - xi' c) xi) in H by (intros; ring); lra.
Qed.

(* Lam xi = sum over the copies c of m of xi_c zeta_c *)
Lemma Lam_sum_tied (xi : nat -> R) (c0 : nat) :
  (c0 < N)%nat -> base c0 = m -> t_sl T c0 <> t_sr T c0 ->
  Lam T m xi = sumn N (fun c => if Nat.eq_dec (base c) m then xi c * zeta T m c else 0).
Proof.
  intros Hc0 Hm Hk0.
  assert (Hn : forall n, (n <= N)%nat ->
            Lam T m (fun c => if lt_dec c n then (if Nat.eq_dec (base c) m then xi c else 0) else 0) =
            sumn n (fun c => if Nat.eq_dec (base c) m then xi c * zeta T m c else 0)).
  { induction n as [|n IH]; intros Hn.
    - rewrite (Lam_ext _ (fun _ => 0)) by (intros; destruct (lt_dec c 0); [lia | reflexivity]).
      rewrite Lam_zero; reflexivity.
    - rewrite sumn_S, <- IH by lia.
      rewrite (Lam_ext _ (fun c => (if lt_dec c n then (if Nat.eq_dec (base c) m then xi c else 0) else 0) +
                                   (if Nat.eq_dec (base n) m then xi n else 0) * unit_vec n c)).
      2:{ intros c _ _; unfold unit_vec; destruct (lt_dec c (S n)), (lt_dec c n), (Nat.eq_dec c n);
            try subst c; try lia; destruct (Nat.eq_dec (base n) m); ring. }
      rewrite (Lam_add_tied _ _ c0 Hc0 Hm Hk0), Lam_scal; unfold zeta.
      destruct (Nat.eq_dec (base n) m); ring. }
  rewrite <- (Hn N (le_n N)); apply Lam_ext; intros c Hc Hb.
  destruct (lt_dec c N); [|lia]; destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction].
Qed.

(* injecting the actual values changes nothing *)
(* an output that weighs the tangents y_c by kap_c *)
Lemma tout_weights_tied (kap : nat -> R) (F : nat -> R -> R) (v : vec) :
  sumn W (fun p => v p * sumn N (fun c => kap c * t_A T c p)) +
  sumn N (fun j => tz T F v j * sumn N (fun c => kap c * t_B T c j)) =
  sumn N (fun c => kap c * ty T F v c).
Proof.
  rewrite !sumn_mul_sumn, <- sumn_plus; apply sumn_ext; intros c Hc; unfold ty.
  rewrite Rmult_plus_distr_l, <- !sumn_scal; f_equal; [apply sumn_ext; intros; ring|].
  rewrite (sumn_zero_above c N); [apply sumn_ext; intros; ring | lia|].
  intros j Hj; rewrite HB0_tied by lia; ring.
Qed.

(* the output of psi: sum_c kappa_c y_c *)
Lemma psi_tout_tied (F : nat -> R -> R) (v : vec) :
  tout (psi_tnet T m) F v = sumn N (fun c => kappa T m c * ty T F v c).
Proof.
  rewrite <- tout_weights_tied; unfold tout; cbn [t_W t_N t_d t_g psi_tnet].
  change (tz (psi_tnet T m) F v) with (tz T F v); reflexivity.
Qed.

End Step.

Local Notation Lam_ext := (T6Tangent.Lam_ext base).
Local Notation Lam_scal := (T6Tangent.Lam_scal base).
Local Notation inject_actual_out := (T6Tangent.inject_actual_out base).

(** * The induction *)

Lemma left_tnet_tied T m : tied_tnet T -> tied_tnet (left_tnet T m).
Proof.
  intros (H0 & HA & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' Hk; cbn [left_tnet t_sl t_sr t_N t_W t_A T6Tangent.left_tnet] in *.
  destruct (Nat.eq_dec (base c') m); [contradiction|]; apply HA; assumption.
Qed.

Lemma psi_tnet_tied T m : tied_tnet T -> tied_tnet (psi_tnet T m).
Proof.
  intros (H0 & HA & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' Hk; cbn [psi_tnet t_sl t_sr t_N t_W t_A T6Tangent.psi_tnet] in *.
  destruct (Nat.eq_dec (base c') m); [contradiction|]; apply HA; assumption.
Qed.

(** * The topmost kinked base neuron *)

Section Topmost.
Variables (T : tnet) (m c0 : nat).
Hypothesis HT : tied_tnet T.
Hypothesis Hc0 : (c0 < t_N T)%nat.
Hypothesis Hm : base c0 = m.
Hypothesis Hk0 : t_sl T c0 <> t_sr T c0.
(* no copy above m is kinked *)
Hypothesis Hup : forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c.
Local Notation N := (t_N T).
Local Notation W := (t_W T).
Local Notation TL := (left_tnet T m).
Local Notation FL := (hat (left_tnet T m)).
Local Notation b := (bias m).

Lemma b_lt'_tied : (b < W)%nat.
Proof. exact (b_lt_tied T m HT c0 Hc0 Hm Hk0). Qed.

Lemma FL_up_tied (c : nat) (t' : R) : (c < N)%nat -> (m < base c)%nat -> FL c t' = t_sl T c * t'.
Proof.
  intros Hc Hmc; unfold hat, left_tnet; cbn [t_sl t_sr].
  destruct (Nat.eq_dec (base c) m); [lia|]; rewrite <- (Hup c Hc Hmc); apply hat2_same.
Qed.

Lemma inj_hat_FL_tied (xi : nat -> R) : injF (hat T) m xi = injF FL m xi.
Proof.
  apply functional_extensionality; intros c; apply functional_extensionality; intros t.
  unfold injF, hat, left_tnet; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); reflexivity.
Qed.

Lemma FL_agree_tied (c : nat) (t : R) : (c < N)%nat -> (base c < m)%nat -> FL c t = hat T c t.
Proof.
  intros _ Hbc; unfold hat, left_tnet; cbn [t_sl t_sr].
  destruct (Nat.eq_dec (base c) m); [lia | reflexivity].
Qed.

(* phi = phi with the copies of m on their left slopes + sum_c kappa_c max(y_c, 0) *)
Lemma tangent_split_tied (v : vec) :
  tout T (hat T) v = tout T FL v + sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0).
Proof.
  assert (H := superposition_tied T m HT c0 Hc0 Hm Hk0 FL (fun c => hat T c (ty T (hat T) v c))
                 (fun c => FL c (ty T FL v c)) v 0 FL_up_tied).
  rewrite vscale_0_l, vadd_vzero_r, Rmult_0_l, Rplus_0_l in H.
  rewrite <- inj_hat_FL_tied, !inject_actual_out, (Lam_sum_tied T m HT _ c0 Hc0 Hm Hk0) in H.
  transitivity (tout T FL v + (tout T (hat T) v - tout T FL v)); [ring|].
  rewrite H; f_equal; apply sumn_ext; intros c Hc.
  unfold kappa; destruct (Nat.eq_dec (base c) m) as [He|]; [|ring].
  rewrite (proj2 (lower_agree_tied T m HT FL (hat T) v FL_agree_tied c Hc)) by lia.
  set (y := ty T (hat T) v c).
  unfold hat, hat2, left_tnet; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); [|contradiction].
  unfold Rmax; destruct (Rlt_dec y 0), (Rle_dec y 0); try lra;
    first [ring | (replace y with 0 by lra; ring)].
Qed.

(* if phi is linear, so is the left network, and Lam (Delta y) = 0 *)
Lemma topmost_facts_tied (G : vec) : tlinear T (hat T) G -> forall v, supported W v ->
  tout T FL v = dot W G v /\
  Lam T m (fun c => (t_sr T c - t_sl T c) * ty T (hat T) v c) = 0.
Proof.
  intros Hlin v Hv.
  assert (Hb : (b < W)%nat) by exact b_lt'_tied.
  assert (HFL_up := FL_up_tied); assert (Hinj := inj_hat_FL_tied); assert (Hagree := FL_agree_tied).
  set (yh := fun c => ty T (hat T) v c).
  assert (Hray : forall t, tout T (hat T) (vadd v (vscale t (unit_vec b))) - tout T FL v =
            t * t_d T b + Lam T m (fun c => hat T c (yh c + t) - FL c (yh c))).
  { intros t.
    rewrite <- (inject_actual_out T m (hat T) (vadd v (vscale t (unit_vec b)))).
    rewrite <- (inject_actual_out T m FL v), Hinj.
    rewrite (superposition_tied T m HT c0 Hc0 Hm Hk0 FL _ _ v t HFL_up).
    f_equal; apply Lam_ext; intros c Hc Hbc.
    pose proof (proj2 (bias_move_tied T m HT c0 Hc0 Hm Hk0 (hat T) v t c Hc)) as Hbm.
    rewrite Hbm by lia.
    destruct (Nat.eq_dec (base c) m); [|contradiction].
    unfold yh; rewrite (proj2 (lower_agree_tied T m HT FL (hat T) v Hagree c Hc)) by lia; reflexivity. }
  assert (Hlin_ray : forall t, tout T (hat T) (vadd v (vscale t (unit_vec b))) = dot W G v + t * G b).
  { intros t; rewrite Hlin by (apply supported_vadd; [exact Hv | apply supported_vscale, supported_unit_vec, Hb]).
    rewrite dot_vadd_r, dot_vscale_r, dot_unit_vec_r by exact Hb; ring. }
  set (T0 := sumn N (fun c => Rabs (yh c)) + 1).
  assert (HT0 : forall c, (c < N)%nat -> Rabs (yh c) < T0)
    by (intros c Hc; unfold T0; pose proof (sumn_abs_bound N yh c Hc); lra).
  assert (HT0pos : 0 < T0) by (pose proof (HT0 c0 Hc0); pose proof (Rabs_pos (yh c0)); lra).
  (* far left: every copy of m on its left piece *)
  assert (Hleft : forall t, t <= - T0 ->
            (dot W G v - tout T FL v) = t * (t_d T b + Lam T m (t_sl T) - G b)).
  { intros t Ht.
    assert (E := Hray t); rewrite Hlin_ray in E.
    rewrite (Lam_ext T m _ (fun c => t * t_sl T c)), Lam_scal in E.
    { transitivity (t * t_d T b + t * Lam T m (t_sl T) - t * G b); [lra | ring]. }
    intros c Hc Hbc; specialize (HT0 c Hc); apply Rabs_def2 in HT0.
    unfold hat, left_tnet, hat2; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); [|contradiction].
    destruct (Rlt_dec (yh c + t) 0), (Rlt_dec (yh c) 0); try lra; ring. }
  assert (HL : tout T FL v = dot W G v).
  { assert (E1 := Hleft (- T0) ltac:(lra)); assert (E2 := Hleft (- T0 - 1) ltac:(lra)).
    assert (Hz := two_points_zero _ (- T0) (- T0 - 1) ltac:(lra) ltac:(rewrite <- E1, <- E2; reflexivity)).
    rewrite Hz, Rmult_0_r in E1; lra. }
  split; [exact HL|].
  (* far right: every copy of m on its right piece *)
  assert (Hright : forall t, T0 <= t ->
            - Lam T m (fun c => (t_sr T c - t_sl T c) * yh c) =
            t * (t_d T b + Lam T m (t_sr T) - G b)).
  { intros t Ht.
    assert (E := Hray t); rewrite Hlin_ray, HL in E.
    rewrite (Lam_ext T m _ (fun c => (t_sr T c - t_sl T c) * yh c + t * t_sr T c)) in E.
    - rewrite (Lam_add_tied T m HT _ _ c0 Hc0 Hm Hk0), Lam_scal in E.
      transitivity (t * t_d T b + t * Lam T m (t_sr T) - t * G b); [lra | ring].
    - intros c Hc Hbc; specialize (HT0 c Hc); apply Rabs_def2 in HT0.
      unfold hat, left_tnet, hat2; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); [|contradiction].
      destruct (Rlt_dec (yh c + t) 0), (Rlt_dec (yh c) 0); try lra; ring. }
  assert (E1 := Hright T0 ltac:(lra)); assert (E2 := Hright (T0 + 1) ltac:(lra)).
  assert (Hz := two_points_zero _ T0 (T0 + 1) ltac:(lra) ltac:(rewrite <- E1, <- E2; reflexivity)).
  rewrite Hz, Rmult_0_r in E1; lra.
Qed.

(* the exact recursive condition: phi is linear with gradient G iff the left
   network is, and the kinks of the copies of m cancel in every direction *)
Theorem topmost_linear_iff_tied (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0) = 0).
Proof.
  split.
  - intros Hlin; split; [intros v Hv; exact (proj1 (topmost_facts_tied G Hlin v Hv))|].
    intros v Hv; pose proof (tangent_split_tied v) as Hs.
    rewrite (Hlin v Hv), (proj1 (topmost_facts_tied G Hlin v Hv)) in Hs; lra.
  - intros [HL Hz] v Hv; rewrite tangent_split_tied, (Hz v Hv), Rplus_0_r; exact (HL v Hv).
Qed.

(* the same with the kinks grouped by the value of their tangent *)
Theorem topmost_linear_iff_groups_tied (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa T m c else 0) = 0).
Proof.
  rewrite topmost_linear_iff_tied; split; intros [HL Hz]; split; try exact HL; intros v Hv.
  - apply (kinks_cancel_groups (kappa T m) (fun c => ty T (hat T) v c) N); intros t.
    transitivity (sumn N (fun c => kappa T m c * Rmax (ty T (hat T) (vadd v (vscale t (unit_vec b))) c) 0)).
    + apply sumn_ext; intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m) as [He|]; [|ring].
      rewrite (proj2 (bias_move_tied T m HT c0 Hc0 Hm Hk0 (hat T) v t c Hc)) by lia.
      destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction].
    + apply Hz, supported_vadd; [exact Hv | apply supported_vscale, supported_unit_vec, b_lt'_tied].
  - unfold sumn; apply (sum_groups_zero (kappa T m) (fun c => ty T (hat T) v c) (fun x => Rmax x 0)).
    intros tau; apply (Hz v Hv tau).
Qed.

End Topmost.

Theorem tied_tangent_T7_below (m : nat) :
  forall T G, tied_tnet T ->
    (forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c < m)%nat) ->
    tlinear T (hat T) G -> tlinear T (lin (theta_slopes T)) G.
Proof.
  induction m as [|m IH]; intros T G HT Hk Hlin.
  - (* no kinked copy: hat is linear and equals the choice slopes *)
    intros v Hv; rewrite <- (Hlin v Hv); apply tout_ext; intros c t Hc.
    destruct (Req_dec (t_sl T c) (t_sr T c)) as [Heq|Hne]; [|specialize (Hk c Hc Hne); lia].
    unfold lin, theta_slopes; rewrite hat_same_linear, Heq by exact Heq; ring.
  - set (N := t_N T); set (W := t_W T).
    destruct (classic (exists c0, (c0 < N)%nat /\ base c0 = m /\ t_sl T c0 <> t_sr T c0))
      as [[c0 [Hc0 [Hm Hk0]]]|Hno].
    2:{ apply (IH T G HT); [|exact Hlin].
        intros c Hc Hne; specialize (Hk c Hc Hne).
        destruct (Nat.eq_dec (base c) m); [exfalso; apply Hno; exists c; repeat split; assumption | lia]. }
    set (b := bias m).
    assert (Hb : (b < W)%nat) by exact (b_lt_tied T m HT c0 Hc0 Hm Hk0).
    set (TL := left_tnet T m).
    set (FL := hat TL).
    (* above m everything is linear *)
    assert (Hup : forall c, (c < N)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c).
    { intros c Hc Hmc; destruct (Req_dec (t_sl T c) (t_sr T c)) as [|Hne]; [assumption|].
      specialize (Hk c Hc Hne); lia. }
    assert (HFL_up : forall c t', (c < N)%nat -> (m < base c)%nat -> FL c t' = t_sl T c * t').
    { intros c t' Hc Hmc; unfold FL, hat, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia|]; rewrite <- (Hup c Hc Hmc); apply hat2_same. }
    (* hat T and FL agree off the copies of m *)
    assert (Hinj : forall xi, injF (hat T) m xi = injF FL m xi).
    { intros xi; apply functional_extensionality; intros c; apply functional_extensionality; intros t.
      unfold injF, FL, hat, TL, left_tnet; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); reflexivity. }
    assert (Hagree : forall c t, (c < N)%nat -> (base c < m)%nat -> FL c t = hat T c t).
    { intros c t _ Hbc; unfold FL, hat, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia | reflexivity]. }
    (* at every direction v: the left network is linear, and Lam (Delta y) = 0 *)
    assert (Hfacts := topmost_facts_tied T m c0 HT Hc0 Hm Hk0 Hup G Hlin).
    (* the left network and psi, both with kinked copies below m only *)
    assert (HkL : forall c, (c < t_N TL)%nat -> t_sl TL c <> t_sr TL c -> (base c < m)%nat).
    { intros c Hc Hne; unfold TL, left_tnet in Hne; cbn [t_sl t_sr] in Hne.
      destruct (Nat.eq_dec (base c) m); [contradiction|]; specialize (Hk c Hc Hne); lia. }
    assert (HlinL : tlinear TL (lin (theta_slopes TL)) G).
    { apply (IH TL G (left_tnet_tied T m HT) HkL); intros v Hv; exact (proj1 (Hfacts v Hv)). }
    assert (Hpsi : tlinear (psi_tnet T m) (lin (theta_slopes (psi_tnet T m))) vzero).
    { apply (IH (psi_tnet T m) vzero (psi_tnet_tied T m HT) HkL).
      intros v Hv; rewrite dot_vzero_l, psi_tout_tied by exact HT.
      rewrite <- (proj2 (Hfacts v Hv)), (Lam_sum_tied T m HT _ c0 Hc0 Hm Hk0).
      apply sumn_ext; intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m); [|ring].
      change (hat (psi_tnet T m)) with FL.
      rewrite (proj2 (lower_agree_tied T m HT FL (hat T) v Hagree c Hc)) by lia; ring. }
    (* AD with theta-uniform choices *)
    intros v Hv.
    set (x := theta_slopes T); set (xl := theta_slopes TL).
    assert (Hxl_up : forall c t', (c < N)%nat -> (m < base c)%nat -> lin xl c t' = t_sl T c * t').
    { intros c t' Hc Hmc; unfold lin, xl, theta_slopes, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia|]; rewrite <- (Hup c Hc Hmc); ring. }
    assert (Hxinj : forall xi, injF (lin x) m xi = injF (lin xl) m xi).
    { intros xi; apply functional_extensionality; intros c; apply functional_extensionality; intros t.
      unfold injF, lin, x, xl, theta_slopes, TL, left_tnet; cbn [t_sl t_sr];
        destruct (Nat.eq_dec (base c) m); reflexivity. }
    assert (Hxagree : forall c t, (c < N)%nat -> (base c < m)%nat -> lin xl c t = lin x c t).
    { intros c t _ Hbc; unfold lin, x, xl, theta_slopes, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia | reflexivity]. }
    assert (Hsup := superposition_tied T m HT c0 Hc0 Hm Hk0 (lin xl)
                      (fun c => lin x c (ty T (lin x) v c)) (fun c => lin xl c (ty T (lin xl) v c)) v 0 Hxl_up).
    rewrite vscale_0_l, vadd_vzero_r, Rmult_0_l, Rplus_0_l in Hsup.
    rewrite <- Hxinj, !inject_actual_out in Hsup.
    rewrite (Lam_ext T m _ (fun c => theta m * ((t_sr T c - t_sl T c) * ty T (lin xl) v c))), Lam_scal in Hsup.
    2:{ intros c Hc Hbc.
        rewrite (proj2 (lower_agree_tied T m HT (lin x) (lin xl) v (fun c t Hc Hb => eq_sym (Hxagree c t Hc Hb)) c Hc))
          by lia.
        unfold lin, x, xl, theta_slopes, TL, left_tnet; cbn [t_sl t_sr].
        destruct (Nat.eq_dec (base c) m); [|contradiction]; rewrite Hbc; ring. }
    assert (Hzero : Lam T m (fun c => (t_sr T c - t_sl T c) * ty T (lin xl) v c) = 0).
    { rewrite (Lam_sum_tied T m HT _ c0 Hc0 Hm Hk0).
      assert (Hp := Hpsi v Hv); rewrite dot_vzero_l, psi_tout_tied in Hp by exact HT.
      transitivity (sumn N (fun c => kappa T m c * ty T (lin (theta_slopes (psi_tnet T m))) v c)); [|exact Hp].
      apply sumn_ext; intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m); [|ring].
      change (theta_slopes (psi_tnet T m)) with xl; ring. }
    rewrite Hzero, Rmult_0_r in Hsup.
    assert (HL := HlinL v Hv); change (tout T (lin xl) v = dot (t_W T) G v) in HL.
    change (tout T (lin x) v = dot (t_W T) G v); lra.
Qed.

(* the corrected T6 for batched tangent networks *)
Theorem tied_tangent_T7 (T : tnet) (G : vec) :
  tied_tnet T -> tlinear T (hat T) G -> tlinear T (lin (theta_slopes T)) G.
Proof.
  intros HT; apply (tied_tangent_T7_below (S (list_max (map base (seq 0 (t_N T))))) T G HT).
  intros c Hc _; apply Nat.lt_succ_r.
  pose proof (proj1 (list_max_le (map base (seq 0 (t_N T))) _) (le_n _)) as H.
  rewrite Forall_forall in H; apply H, in_map, in_seq; lia.
Qed.

End TiedTangent.
