(* Tangent networks with classes (THEORY.md section 8.1; issue 18, "Coq V",
   item 4): the part of the T6/T7 induction shared by batched tangent
   networks (T6Tangent.v) and tied tangent networks (T7Tangent.v).  Neuron c
   has the class base c.  The lemmas need only
   - ordered_tnet: neurons read neurons of lower classes only, and
   - class_bias_tnet T m b: the direction coordinate b enters every neuron
     of class m with coefficient 1 and no other neuron
   (the topmost kinked class m has such a bias in both settings).
   Definitions (theta_slopes, tlinear, left_tnet, Lam, zeta, kappa,
   psi_tnet), then: moving b moves class m by t and nothing below
   (bias_move_cls); superposition through Lam; Lam is linear; the kinks of
   class m cancel in every direction iff they cancel by groups of equal
   tangent values (kinks_cancel_groups); the exact recursive condition at
   the topmost kinked class (topmost_linear_iff_groups_cls). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Network AD Tangent.
Import ListNotations.
Open Scope R_scope.

Section Classes.
Variables (base bias : nat -> nat) (theta : nat -> R).

(** * Definitions *)

Definition batched_tnet (T : tnet) : Prop :=
  (forall c j, (c < t_N T)%nat -> (c <= j)%nat -> t_B T c j = 0) /\
  (forall c c', (c < t_N T)%nat -> (c' < t_N T)%nat ->
     t_A T c (bias (base c')) = if Nat.eq_dec (base c) (base c') then 1 else 0) /\
  (forall c, (c < t_N T)%nat -> (bias (base c) < t_W T)%nat) /\
  (forall c j, (j < c)%nat -> (c < t_N T)%nat -> t_B T c j <> 0 -> (base j < base c)%nat).

Definition theta_slopes (T : tnet) (c : nat) : R :=
  t_sl T c + theta (base c) * (t_sr T c - t_sl T c).

Definition tlinear (T : tnet) (F : nat -> R -> R) (G : vec) : Prop :=
  forall v, supported (t_W T) v -> tout T F v = dot (t_W T) G v.

(* the copies of m take their left slope *)
Definition left_tnet (T : tnet) (m : nat) : tnet :=
  mk_tnet (t_W T) (t_N T) (t_A T) (t_B T) (t_d T) (t_g T) (t_sl T)
    (fun c => if Nat.eq_dec (base c) m then t_sl T c else t_sr T c).

(* values xi injected at the copies of m, F elsewhere *)
Definition injF (F : nat -> R -> R) (m : nat) (xi : nat -> R) : nat -> R -> R :=
  fun c t => if Nat.eq_dec (base c) m then xi c else F c t.

(* the output as a function of values injected at the copies of m, all
   other neurons linear with their left slopes, direction 0 *)
Definition Lam (T : tnet) (m : nat) (xi : nat -> R) : R :=
  tout T (injF (fun c t => t_sl T c * t) m xi) vzero.

Definition zeta (T : tnet) (m c : nat) : R := Lam T m (unit_vec c).

Definition kappa (T : tnet) (m c : nat) : R :=
  if Nat.eq_dec (base c) m then zeta T m c * (t_sr T c - t_sl T c) else 0.

(* the network with output sum_c kappa_c y_c, copies of m on their left slopes *)
Definition psi_tnet (T : tnet) (m : nat) : tnet :=
  mk_tnet (t_W T) (t_N T) (t_A T) (t_B T)
    (fun p => sumn (t_N T) (fun c => kappa T m c * t_A T c p))
    (fun j => sumn (t_N T) (fun c => kappa T m c * t_B T c j))
    (t_sl T) (fun c => if Nat.eq_dec (base c) m then t_sl T c else t_sr T c).

Lemma injF_at F m xi c t : base c = m -> injF F m xi c t = xi c.
Proof. intros H; unfold injF; destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction]. Qed.

Lemma injF_off F m xi c t : base c <> m -> injF F m xi c t = F c t.
Proof. intros H; unfold injF; destruct (Nat.eq_dec (base c) m); [contradiction | reflexivity]. Qed.

(* neurons read neurons of lower classes only *)
Definition ordered_tnet (T : tnet) : Prop :=
  (forall c j, (c < t_N T)%nat -> (c <= j)%nat -> t_B T c j = 0) /\
  (forall c j, (j < c)%nat -> (c < t_N T)%nat -> t_B T c j <> 0 -> (base j < base c)%nat).

(* b enters every neuron of class m with coefficient 1 and no other neuron *)
Definition class_bias_tnet (T : tnet) (m b : nat) : Prop :=
  (b < t_W T)%nat /\
  forall c, (c < t_N T)%nat -> t_A T c b = if Nat.eq_dec (base c) m then 1 else 0.

Lemma left_tnet_ordered T m : ordered_tnet T -> ordered_tnet (left_tnet T m).
Proof. intros H; exact H. Qed.

Lemma psi_tnet_ordered T m : ordered_tnet T -> ordered_tnet (psi_tnet T m).
Proof. intros H; exact H. Qed.

(** * Lemmas on one ordered tangent network *)

Section Step.
Variables (T : tnet) (m : nat).
Hypothesis HO : ordered_tnet T.
Local Notation W := (t_W T).
Local Notation N := (t_N T).

Lemma HB0_o c j : (c < N)%nat -> (c <= j)%nat -> t_B T c j = 0.
Proof. apply (proj1 HO). Qed.
Lemma HBase_o c j : (j < c)%nat -> (c < N)%nat -> t_B T c j <> 0 -> (base j < base c)%nat.
Proof. apply (proj2 HO). Qed.

(* the tangent of y_c only reads neurons of lower base *)
Lemma ty_lower_sum_cls (F F' : nat -> R -> R) (v v' : vec) (c : nat) :
  (c < N)%nat -> (forall i, (i < c)%nat -> (base i < base c)%nat -> tz T F v i = tz T F' v' i) ->
  sumn c (fun i => tz T F v i * t_B T c i) = sumn c (fun i => tz T F' v' i * t_B T c i).
Proof.
  intros Hc H; apply sumn_ext; intros i Hi.
  destruct (Req_dec (t_B T c i) 0) as [->|Hne]; [ring|].
  rewrite H; [reflexivity | exact Hi | apply HBase_o; assumption].
Qed.

(* F and F' agree below m: same values below m, same tangents up to m *)
Lemma lower_agree_cls (F F' : nat -> R -> R) (v : vec) :
  (forall c t, (c < N)%nat -> (base c < m)%nat -> F c t = F' c t) ->
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F v c = tz T F' v c) /\
    ((base c <= m)%nat -> ty T F v c = ty T F' v c).
Proof.
  intros HF c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : (base c <= m)%nat -> ty T F v c = ty T F' v c).
  { intros Hb; unfold ty; f_equal; apply ty_lower_sum_cls; [exact Hc|].
    intros i Hi Hbi; apply (IH i Hi); lia. }
  split; [|exact Hy]; intros Hb.
  rewrite !tz_eq by exact Hc; rewrite HF, Hy by lia; reflexivity.
Qed.

Lemma sumn_shift_unit (v : vec) (t : R) (b : nat) (f : nat -> R) : (b < W)%nat ->
  sumn W (fun p => vadd v (vscale t (unit_vec b)) p * f p) = sumn W (fun p => v p * f p) + t * f b.
Proof.
  intros Hb; rewrite <- (sumn_indicator_l W b f Hb), <- sumn_scal, <- sumn_plus.
  apply sumn_ext; intros p _; unfold vadd, vscale, unit_vec.
  destruct (Nat.eq_dec p b), (Nat.eq_dec b p); subst; try congruence; ring.
Qed.

Section Bias.
Variable b : nat.
Hypothesis Hcb : class_bias_tnet T m b.

Lemma b_lt_cls : (b < W)%nat.
Proof. exact (proj1 Hcb). Qed.

Lemma A_b_cls (c : nat) : (c < N)%nat -> t_A T c b = if Nat.eq_dec (base c) m then 1 else 0.
Proof. apply (proj2 Hcb). Qed.

(* moving v_b by t: nothing below m moves, every copy of m moves by t *)
Lemma bias_move_cls (F : nat -> R -> R) (v : vec) (t : R) :
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F (vadd v (vscale t (unit_vec b))) c = tz T F v c) /\
    ((base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec b))) c =
                          ty T F v c + (if Nat.eq_dec (base c) m then t else 0)).
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : (base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec b))) c =
                                    ty T F v c + (if Nat.eq_dec (base c) m then t else 0)).
  { intros Hb; unfold ty; rewrite sumn_shift_unit by exact b_lt_cls.
    rewrite (ty_lower_sum_cls F F (vadd v (vscale t (unit_vec b))) v c Hc);
      [|intros i Hi Hbi; apply (IH i Hi); lia].
    rewrite A_b_cls by exact Hc; destruct (Nat.eq_dec (base c) m); ring. }
  split; [|exact Hy]; intros Hb.
  rewrite !tz_eq by exact Hc; rewrite Hy by lia.
  destruct (Nat.eq_dec (base c) m); [lia|]; rewrite Rplus_0_r; reflexivity.
Qed.

(* superposition_cls: what is injected at U enters the output through Lam *)
Lemma superposition_nodes_cls (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
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
      pose proof (HBase_o c' i Hi Hc' Hne); fold L; rewrite IH'; [ring | exact Hi | lia | lia]. }
    rewrite (Hlow c Hc Hlt).
    assert (HFa : forall xi0 c' t', (c' < N)%nat -> (base c' < m)%nat -> injF F m xi0 c' t' = F c' t')
      by (intros xi0 c' t' _ Hb'; unfold injF; destruct (Nat.eq_dec (base c') m); [lia | reflexivity]).
    rewrite (proj1 (lower_agree_cls (injF F m xi) F _ (HFa xi) c Hc) Hlt).
    rewrite (proj1 (lower_agree_cls (injF F m xi') F _ (HFa xi') c Hc) Hlt).
    rewrite (proj1 (bias_move_cls F v t c Hc) Hlt); ring.
  - (* the copies of m: the injected values *)
    rewrite !tz_eq by exact Hc; unfold L; rewrite !injF_at by exact Heq; reflexivity.
  - (* above m: linear, and v_b is not read *)
    rewrite !tz_eq by exact Hc; unfold L; rewrite !injF_off by lia.
    rewrite !HF by assumption; rewrite <- Rmult_minus_distr_l; f_equal.
    unfold ty; rewrite sumn_shift_unit by exact b_lt_cls; rewrite A_b_cls by exact Hc.
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

Lemma superposition_cls (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
  (forall c t', (c < N)%nat -> (m < base c)%nat -> F c t' = t_sl T c * t') ->
  tout T (injF F m xi) (vadd v (vscale t (unit_vec b))) - tout T (injF F m xi') v =
  t * t_d T b + Lam T m (fun c => xi c - xi' c).
Proof.
  intros HF; unfold Lam, tout; rewrite sumn_shift_unit by exact b_lt_cls.
  rewrite (sumn_ext W (fun p => vzero p * t_d T p) (fun _ => 0 * 0)) by (intros; unfold vzero; ring).
  rewrite sumn_scal.
  rewrite (sumn_ext N (fun j => tz T (injF (fun c t => t_sl T c * t) m (fun c => xi c - xi' c)) vzero j * t_g T j)
                      (fun j => tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) j * t_g T j -
                                tz T (injF F m xi') v j * t_g T j)).
  2:{ intros j Hj; rewrite <- (superposition_nodes_cls F xi xi' v t HF j Hj); ring. }
  rewrite sumn_minus; ring.
Qed.

End Bias.

(** * Lam is linear in the injected values *)

Lemma Lam_ext (xi xi' : nat -> R) :
  (forall c, (c < N)%nat -> base c = m -> xi c = xi' c) -> Lam T m xi = Lam T m xi'.
Proof.
  intros H; unfold Lam; apply tout_ext; intros c t Hc; unfold injF.
  destruct (Nat.eq_dec (base c) m); [apply H; assumption | reflexivity].
Qed.

Lemma Lam_zero_nodes (xi : nat -> R) (k : R) :
  forall c, (c < N)%nat ->
    tz T (injF (fun c t => t_sl T c * t) m (fun c => k * xi c)) vzero c =
    k * tz T (injF (fun c t => t_sl T c * t) m xi) vzero c.
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  rewrite !tz_eq by exact Hc; destruct (Nat.eq_dec (base c) m) as [He|He];
    [rewrite !injF_at by exact He; reflexivity|].
  rewrite !injF_off by exact He.
  unfold ty; rewrite (sumn_ext W (fun p => vzero p * t_A T c p) (fun _ => 0 * 0)) by (intros; unfold vzero; ring).
  rewrite sumn_scal, !Rmult_0_l, !Rplus_0_l.
  rewrite (sumn_ext c _ (fun i => k * (tz T (injF (fun c t => t_sl T c * t) m xi) vzero i * t_B T c i)))
    by (intros i Hi; rewrite IH by lia; ring).
  rewrite sumn_scal; ring.
Qed.

Lemma Lam_scal (xi : nat -> R) (k : R) : Lam T m (fun c => k * xi c) = k * Lam T m xi.
Proof.
  unfold Lam, tout; rewrite (sumn_ext W (fun p => vzero p * t_d T p) (fun _ => 0 * 0)) by (intros; unfold vzero; ring).
  rewrite sumn_scal, !Rmult_0_l, !Rplus_0_l, <- sumn_scal; apply sumn_ext; intros j Hj.
  unfold tz at 1; fold (tz T (injF (fun c t => t_sl T c * t) m (fun c => k * xi c)) vzero j).
  rewrite Lam_zero_nodes by exact Hj; ring.
Qed.

Lemma Lam_zero : Lam T m (fun _ => 0) = 0.
Proof.
  rewrite (Lam_ext _ (fun c => 0 * (fun _ => 0) c)) by (intros; ring).
  rewrite Lam_scal; ring.
Qed.

Lemma Lam_sub_cls (b : nat) (xi xi' : nat -> R) : class_bias_tnet T m b ->
  Lam T m xi - Lam T m xi' = Lam T m (fun c => xi c - xi' c).
Proof.
  intros Hcb.
  assert (H := superposition_cls b Hcb (fun c t => t_sl T c * t) xi xi' vzero 0 (fun _ _ _ _ => eq_refl)).
  rewrite Rmult_0_l, Rplus_0_l, vscale_0_l, vadd_vzero_r in H; exact H.
Qed.

Lemma Lam_add_cls (b : nat) (xi xi' : nat -> R) : class_bias_tnet T m b ->
  Lam T m (fun c => xi c + xi' c) = Lam T m xi + Lam T m xi'.
Proof.
  intros Hcb.
  assert (H := Lam_sub_cls b (fun c => xi c + xi' c) xi' Hcb).
  cbv beta in H; rewrite (Lam_ext (fun c => xi c + xi' c - xi' c) xi) in H by (intros; ring); lra.
Qed.

(* Lam xi = sum over the copies c of m of xi_c zeta_c *)
Lemma Lam_sum_cls (b : nat) (xi : nat -> R) : class_bias_tnet T m b ->
  Lam T m xi = sumn N (fun c => if Nat.eq_dec (base c) m then xi c * zeta T m c else 0).
Proof.
  intros Hcb.
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
      rewrite (Lam_add_cls b _ _ Hcb), Lam_scal; unfold zeta.
      destruct (Nat.eq_dec (base n) m); ring. }
  rewrite <- (Hn N (le_n N)); apply Lam_ext; intros c Hc Hb.
  destruct (lt_dec c N); [|lia]; destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction].
Qed.

(* injecting the actual values changes nothing *)
Lemma inject_actual (F : nat -> R -> R) (v : vec) :
  forall c, (c < N)%nat -> tz T (injF F m (fun c => F c (ty T F v c))) v c = tz T F v c.
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  rewrite !tz_eq by exact Hc; destruct (Nat.eq_dec (base c) m) as [He|He];
    [rewrite injF_at by exact He; reflexivity|].
  rewrite injF_off by exact He.
  f_equal; unfold ty; f_equal; apply sumn_ext; intros i Hi; rewrite IH by lia; reflexivity.
Qed.

Lemma inject_actual_out (F : nat -> R -> R) (v : vec) :
  tout T (injF F m (fun c => F c (ty T F v c))) v = tout T F v.
Proof. unfold tout; f_equal; apply sumn_ext; intros j Hj; rewrite inject_actual by exact Hj; reflexivity. Qed.

Lemma sumn_mul_sumn (n k : nat) (a : nat -> R) (f : nat -> nat -> R) :
  sumn n (fun p => a p * sumn k (fun c => f c p)) = sumn k (fun c => sumn n (fun p => a p * f c p)).
Proof.
  rewrite <- sumn_swap; apply sumn_ext; intros p _; rewrite <- sumn_scal; reflexivity.
Qed.

(* an output that weighs the tangents y_c by kap_c *)
Lemma tout_weights_cls (kap : nat -> R) (F : nat -> R -> R) (v : vec) :
  sumn W (fun p => v p * sumn N (fun c => kap c * t_A T c p)) +
  sumn N (fun j => tz T F v j * sumn N (fun c => kap c * t_B T c j)) =
  sumn N (fun c => kap c * ty T F v c).
Proof.
  rewrite !sumn_mul_sumn, <- sumn_plus; apply sumn_ext; intros c Hc; unfold ty.
  rewrite Rmult_plus_distr_l, <- !sumn_scal; f_equal; [apply sumn_ext; intros; ring|].
  rewrite (sumn_zero_above c N); [apply sumn_ext; intros; ring | lia|].
  intros j Hj; rewrite HB0_o by lia; ring.
Qed.

(* the output of psi: sum_c kappa_c y_c *)
Lemma psi_tout_cls (F : nat -> R -> R) (v : vec) :
  tout (psi_tnet T m) F v = sumn N (fun c => kappa T m c * ty T F v c).
Proof.
  rewrite <- tout_weights_cls; unfold tout; cbn [t_W t_N t_d t_g psi_tnet].
  change (tz (psi_tnet T m) F v) with (tz T F v); reflexivity.
Qed.

End Step.

(** * Grouping kinks by tangent values *)

Lemma hat_same_linear (T : tnet) (c : nat) (t : R) : t_sl T c = t_sr T c -> hat T c t = t_sl T c * t.
Proof. intros H; unfold hat; rewrite <- H; apply hat2_same. Qed.

Lemma two_points_zero (a t1 t2 : R) : t1 <> t2 -> t1 * a = t2 * a -> a = 0.
Proof.
  intros Ht H; assert (H' : (t1 - t2) * a = 0) by lra.
  destruct (Rmult_integral _ _ H'); [lra | assumption].
Qed.

Lemma sumn_abs_bound (n : nat) (f : nat -> R) (c : nat) : (c < n)%nat -> Rabs (f c) <= sumn n (fun i => Rabs (f i)).
Proof.
  induction n as [|n IH]; intros Hc; [lia|]; rewrite sumn_S.
  assert (Hpos : 0 <= sumn n (fun i => Rabs (f i))).
  { clear IH Hc; induction n as [|n IHn]; [unfold sumn, sum_list; simpl; lra|].
    rewrite sumn_S; pose proof (Rabs_pos (f n)); lra. }
  destruct (Nat.eq_dec c n) as [->|]; [lra|]; specialize (IH ltac:(lia)); pose proof (Rabs_pos (f n)); lra.
Qed.

(** * Sums of kinks x -> a max(y + x, 0) *)

Lemma sum_list_scal (k : R) (f : nat -> R) (l : list nat) :
  sum_list (map (fun c => k * f c) l) = k * sum_list (map f l).
Proof. induction l as [|c l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma filter_length_le {A : Type} (f : A -> bool) (l : list A) : (length (filter f l) <= length l)%nat.
Proof. induction l as [|a l IH]; simpl; [lia|]; destruct (f a); simpl; lia. Qed.

Lemma sum_list_split_value (a : nat -> R) (y : nat -> R) (tau : R) (l : list nat) :
  sum_list (map a l) =
  sum_list (map (fun c => if Req_EM_T (y c) tau then a c else 0) l) +
  sum_list (map a (filter (fun c => if Req_EM_T (y c) tau then false else true) l)).
Proof.
  induction l as [|c l IH]; [unfold sum_list; simpl; ring|]; simpl.
  destruct (Req_EM_T (y c) tau); unfold sum_list in *; simpl; rewrite IH; ring.
Qed.

(* if every group of equal values y has weights summing to 0, sum_c a_c f(y_c) = 0 *)
Lemma sum_groups_zero (a y : nat -> R) (f : R -> R) (l : list nat) :
  (forall tau, sum_list (map (fun c => if Req_EM_T (y c) tau then a c else 0) l) = 0) ->
  sum_list (map (fun c => a c * f (y c)) l) = 0.
Proof.
  remember (length l) as n eqn:Hn; revert l Hn.
  induction n as [n IH] using lt_wf_ind; intros l Hn Hg.
  destruct l as [|c1 l']; [reflexivity|].
  set (t1 := y c1).
  rewrite (sum_list_split_value _ y t1).
  rewrite (sum_list_map_ext (fun c => if Req_EM_T (y c) t1 then a c * f (y c) else 0)
                            (fun c => f t1 * (if Req_EM_T (y c) t1 then a c else 0)))
    by (intros c _; destruct (Req_EM_T (y c) t1) as [->|]; ring).
  rewrite sum_list_scal, (Hg t1), Rmult_0_r, Rplus_0_l.
  apply (IH (length (filter (fun c => if Req_EM_T (y c) t1 then false else true) (c1 :: l')))).
  - rewrite Hn; simpl; unfold t1; destruct (Req_EM_T (y c1) (y c1)); [|congruence].
    pose proof (filter_length_le (fun c => if Req_EM_T (y c) (y c1) then false else true) l'); simpl; lia.
  - reflexivity.
  - intros tau; destruct (Req_EM_T tau t1) as [->|Hne].
    + apply sum_list_map_zero; intros c Hc; apply filter_In in Hc as [_ Hc].
      destruct (Req_EM_T (y c) t1); [discriminate | reflexivity].
    + assert (Hs := sum_list_split_value (fun c => if Req_EM_T (y c) tau then a c else 0) y t1 (c1 :: l')).
      cbv beta in Hs; rewrite (Hg tau) in Hs.
      rewrite (sum_list_map_zero (fun c => if Req_EM_T (y c) t1 then (if Req_EM_T (y c) tau then a c else 0) else 0))
        in Hs; [lra|].
      intros c _; destruct (Req_EM_T (y c) t1) as [->|]; [|reflexivity].
      destruct (Req_EM_T t1 tau); [congruence | reflexivity].
Qed.

Lemma gap_exists (y : nat -> R) (tau : R) (n : nat) :
  exists eps, 0 < eps /\ forall c, (c < n)%nat -> y c <> tau -> eps < Rabs (y c - tau).
Proof.
  induction n as [|n [e [He H]]]; [exists 1; split; [lra | intros; lia]|].
  destruct (Req_EM_T (y n) tau) as [Heq|Hne].
  - exists e; split; [exact He|]; intros c Hc Hyc; destruct (Nat.eq_dec c n) as [->|]; [contradiction|].
    apply H; [lia | exact Hyc].
  - assert (Hp : 0 < Rabs (y n - tau)) by (apply Rabs_pos_lt; lra).
    exists (Rmin e (Rabs (y n - tau) / 2)); split; [apply Rmin_glb_lt; lra|].
    intros c Hc Hyc; generalize (Rmin_l e (Rabs (y n - tau) / 2)) (Rmin_r e (Rabs (y n - tau) / 2)); intros.
    destruct (Nat.eq_dec c n) as [->|]; [lra|]; specialize (H c ltac:(lia) Hyc); lra.
Qed.

(* if sum_c a_c max(y_c + t, 0) = 0 for all t, every group of equal y has weight 0 *)
Lemma kinks_cancel_groups (a y : nat -> R) (n : nat) :
  (forall t, sumn n (fun c => a c * Rmax (y c + t) 0) = 0) ->
  forall tau, sumn n (fun c => if Req_EM_T (y c) tau then a c else 0) = 0.
Proof.
  intros H tau; destruct (gap_exists y tau n) as [e [He Hgap]].
  assert (E : sumn n (fun c => a c * Rmax (y c + (- tau + e)) 0) - 2 * sumn n (fun c => a c * Rmax (y c + - tau) 0) +
              sumn n (fun c => a c * Rmax (y c + (- tau - e)) 0) = 0) by (rewrite !H; ring).
  rewrite <- sumn_scal, <- sumn_minus, <- sumn_plus in E.
  rewrite (sumn_ext n _ (fun c => e * (if Req_EM_T (y c) tau then a c else 0))) in E.
  - rewrite sumn_scal in E; apply Rmult_integral in E as [E|E]; [lra | exact E].
  - intros c Hc; destruct (Req_EM_T (y c) tau) as [->|Hne].
    + unfold Rmax; repeat destruct Rle_dec; try lra; ring.
    + specialize (Hgap c Hc Hne); unfold Rmax; revert Hgap; split_Rabs; intros;
        repeat destruct Rle_dec; try lra; ring.
Qed.

(** * The topmost kinked class *)

Section Topmost.
Variables (T : tnet) (m c0 b : nat).
Hypothesis HO : ordered_tnet T.
Hypothesis Hcb : class_bias_tnet T m b.
Hypothesis Hc0 : (c0 < t_N T)%nat.
(* no neuron above class m is kinked *)
Hypothesis Hup : forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c.
Local Notation N := (t_N T).
Local Notation W := (t_W T).
Local Notation TL := (left_tnet T m).
Local Notation FL := (hat (left_tnet T m)).

Lemma b_lt'_cls : (b < W)%nat.
Proof. exact (proj1 Hcb). Qed.

Lemma FL_up_cls (c : nat) (t' : R) : (c < N)%nat -> (m < base c)%nat -> FL c t' = t_sl T c * t'.
Proof.
  intros Hc Hmc; unfold hat, left_tnet; cbn [t_sl t_sr].
  destruct (Nat.eq_dec (base c) m); [lia|]; rewrite <- (Hup c Hc Hmc); apply hat2_same.
Qed.

Lemma inj_hat_FL_cls (xi : nat -> R) : injF (hat T) m xi = injF FL m xi.
Proof.
  apply functional_extensionality; intros c; apply functional_extensionality; intros t.
  unfold injF, hat, left_tnet; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); reflexivity.
Qed.

Lemma FL_agree_cls (c : nat) (t : R) : (c < N)%nat -> (base c < m)%nat -> FL c t = hat T c t.
Proof.
  intros _ Hbc; unfold hat, left_tnet; cbn [t_sl t_sr].
  destruct (Nat.eq_dec (base c) m); [lia | reflexivity].
Qed.

(* phi = phi with the copies of m on their left slopes + sum_c kappa_c max(y_c, 0) *)
Lemma tangent_split_cls (v : vec) :
  tout T (hat T) v = tout T FL v + sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0).
Proof.
  assert (H := superposition_cls T m HO b Hcb FL (fun c => hat T c (ty T (hat T) v c))
                 (fun c => FL c (ty T FL v c)) v 0 FL_up_cls).
  rewrite vscale_0_l, vadd_vzero_r, Rmult_0_l, Rplus_0_l in H.
  rewrite <- inj_hat_FL_cls, !inject_actual_out, (Lam_sum_cls T m HO b _ Hcb) in H.
  transitivity (tout T FL v + (tout T (hat T) v - tout T FL v)); [ring|].
  rewrite H; f_equal; apply sumn_ext; intros c Hc.
  unfold kappa; destruct (Nat.eq_dec (base c) m) as [He|]; [|ring].
  rewrite (proj2 (lower_agree_cls T m HO FL (hat T) v FL_agree_cls c Hc)) by lia.
  set (y := ty T (hat T) v c).
  unfold hat, hat2, left_tnet; cbn [t_sl t_sr]; destruct (Nat.eq_dec (base c) m); [|contradiction].
  unfold Rmax; destruct (Rlt_dec y 0), (Rle_dec y 0); try lra;
    first [ring | (replace y with 0 by lra; ring)].
Qed.

(* if phi is linear, so is the left network, and Lam (Delta y) = 0 *)
Lemma topmost_facts_cls (G : vec) : tlinear T (hat T) G -> forall v, supported W v ->
  tout T FL v = dot W G v /\
  Lam T m (fun c => (t_sr T c - t_sl T c) * ty T (hat T) v c) = 0.
Proof.
  intros Hlin v Hv.
  assert (Hb : (b < W)%nat) by exact b_lt'_cls.
  assert (HFL_up := FL_up_cls); assert (Hinj := inj_hat_FL_cls); assert (Hagree := FL_agree_cls).
  set (yh := fun c => ty T (hat T) v c).
  assert (Hray : forall t, tout T (hat T) (vadd v (vscale t (unit_vec b))) - tout T FL v =
            t * t_d T b + Lam T m (fun c => hat T c (yh c + t) - FL c (yh c))).
  { intros t.
    rewrite <- (inject_actual_out T m (hat T) (vadd v (vscale t (unit_vec b)))).
    rewrite <- (inject_actual_out T m FL v), Hinj.
    rewrite (superposition_cls T m HO b Hcb FL _ _ v t HFL_up).
    f_equal; apply Lam_ext; intros c Hc Hbc.
    pose proof (proj2 (bias_move_cls T m HO b Hcb (hat T) v t c Hc)) as Hbm.
    rewrite Hbm by lia.
    destruct (Nat.eq_dec (base c) m); [|contradiction].
    unfold yh; rewrite (proj2 (lower_agree_cls T m HO FL (hat T) v Hagree c Hc)) by lia; reflexivity. }
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
    - rewrite (Lam_add_cls T m HO b _ _ Hcb), Lam_scal in E.
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
Theorem topmost_linear_iff_cls (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0) = 0).
Proof.
  split.
  - intros Hlin; split; [intros v Hv; exact (proj1 (topmost_facts_cls G Hlin v Hv))|].
    intros v Hv; pose proof (tangent_split_cls v) as Hs.
    rewrite (Hlin v Hv), (proj1 (topmost_facts_cls G Hlin v Hv)) in Hs; lra.
  - intros [HL Hz] v Hv; rewrite tangent_split_cls, (Hz v Hv), Rplus_0_r; exact (HL v Hv).
Qed.

(* the same with the kinks grouped by the value of their tangent *)
Theorem topmost_linear_iff_groups_cls (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa T m c else 0) = 0).
Proof.
  rewrite topmost_linear_iff_cls; split; intros [HL Hz]; split; try exact HL; intros v Hv.
  - apply (kinks_cancel_groups (kappa T m) (fun c => ty T (hat T) v c) N); intros t.
    transitivity (sumn N (fun c => kappa T m c * Rmax (ty T (hat T) (vadd v (vscale t (unit_vec b))) c) 0)).
    + apply sumn_ext; intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m) as [He|]; [|ring].
      rewrite (proj2 (bias_move_cls T m HO b Hcb (hat T) v t c Hc)) by lia.
      destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction].
    + apply Hz, supported_vadd; [exact Hv | apply supported_vscale, supported_unit_vec, b_lt'_cls].
  - unfold sumn; apply (sum_groups_zero (kappa T m) (fun c => ty T (hat T) v c) (fun x => Rmax x 0)).
    intros tau; apply (Hz v Hv tau).
Qed.

End Topmost.

End Classes.
