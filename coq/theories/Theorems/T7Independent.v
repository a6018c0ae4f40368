(* The exact finite N&S condition of T7Single.v for kinks in several classes
   (THEORY.md section 8.1; issue 18, "Coq V", item 3), when the kinks are
   independent: the tangent of every kinked neuron is read through unkinked
   neurons only (kinks_independent; e.g. kinked copies in different
   examples of a batch, or in one class).  Then f is differentiable at w iff
   for every class m and every neuron c0 the weights kappa_c of the neurons
   c of class m with the tangent form of c0 sum to 0 (forms_groups).
   Proof: induction on the topmost kinked class m (T7Tangent.v): phi_w is
   linear iff the network with class m on its left slopes is and the kinks
   of m cancel by groups of equal tangent values; by independence these
   tangents are the linear forms, and forms_groups_iff (T7Single.v) turns
   the groups into groups of equal forms.  Moving class m to its left slopes
   changes neither the forms nor the weights of the other classes (zeta only
   reads the left slopes). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD Tangent TangentClasses
  T7Tangent Tied T7Correct T7Single.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Section Independent.
Variables (base bias : nat -> nat).

(* the tangent of every kinked neuron is its linear tangent *)
Definition kinks_independent (T : tnet) : Prop :=
  forall c v, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> ty T (hat T) v c = ty T (lin (t_sl T)) v c.

(* a_c p, all activations on their left slopes *)
Definition tform (T : tnet) (c p : nat) : R := ty T (lin (t_sl T)) (unit_vec p) c.

(* the kinks of class m cancel within every group of equal forms *)
Definition forms_groups (T : tnet) (m : nat) : Prop :=
  forall c0, (c0 < t_N T)%nat ->
    sumn (t_N T) (fun c => if forms_agree (tform T) (seq 0 (t_W T)) c0 c then kappa base T m c else 0) = 0.

(** * Lemmas *)

Lemma tout_lin_linear (T : tnet) (x : nat -> R) (v : vec) :
  tout T (lin x) v = dot (t_W T) (fun p => tout T (lin x) (unit_vec p)) v.
Proof.
  unfold tout at 1; rewrite dot_sumn.
  rewrite (sumn_ext (t_N T) (fun j => tz T (lin x) v j * t_g T j)
             (fun j => sumn (t_W T) (fun p => v p * (tz T (lin x) (unit_vec p) j * t_g T j)))).
  2:{ intros j Hj; rewrite (proj1 (tz_lin_linear T x v j Hj)), Rmult_comm, <- sumn_scal.
      apply sumn_ext; intros; ring. }
  rewrite sumn_swap, <- sumn_plus; apply sumn_ext; intros p Hp.
  unfold tout; rewrite sumn_unit_vec_l by exact Hp; rewrite sumn_scal; ring.
Qed.

Lemma kappa_unkinked (T : tnet) (m c : nat) : t_sl T c = t_sr T c -> kappa base T m c = 0.
Proof. intros H; unfold kappa; rewrite H; destruct (Nat.eq_dec (base c) m); ring. Qed.

Lemma forms_groups_unkinked (T : tnet) (m : nat) :
  (forall c, (c < t_N T)%nat -> base c = m -> t_sl T c = t_sr T c) -> forms_groups T m.
Proof.
  intros H c0 _; rewrite (sumn_ext _ _ (fun _ => 0 * 0)); [rewrite sumn_scal; ring|].
  intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m) as [E|]; [rewrite (H c Hc E)|];
    destruct (forms_agree _ _ _ _); ring.
Qed.

(* with all slopes equal, phi is linear *)
Lemma unkinked_linear (T : tnet) :
  (forall c, (c < t_N T)%nat -> t_sl T c = t_sr T c) ->
  tlinear T (hat T) (fun p => tout T (lin (t_sl T)) (unit_vec p)).
Proof.
  intros H v _; rewrite <- tout_lin_linear; apply tout_ext; intros c t Hc.
  unfold lin; apply hat_same_linear, H, Hc.
Qed.

Section Step.
Variables (T : tnet) (m : nat).
Local Notation TL := (left_tnet base T m).

Lemma tform_left : tform TL = tform T.
Proof. reflexivity. Qed.

Lemma kappa_left (m' c : nat) : m' <> m -> kappa base TL m' c = kappa base T m' c.
Proof.
  intros Hne; unfold kappa; destruct (Nat.eq_dec (base c) m') as [E|]; [|reflexivity].
  cbn [left_tnet t_sr]; destruct (Nat.eq_dec (base c) m); [lia | reflexivity].
Qed.

Lemma forms_groups_left (m' : nat) : m' <> m -> forms_groups TL m' <-> forms_groups T m'.
Proof.
  intros Hne; unfold forms_groups; rewrite tform_left; cbn [left_tnet t_N t_W].
  split; intros H c0 Hc0; (etransitivity; [|exact (H c0 Hc0)]); apply sumn_ext; intros c _;
    rewrite kappa_left by exact Hne; reflexivity.
Qed.

Lemma forms_groups_left_self : forms_groups TL m.
Proof.
  apply forms_groups_unkinked; intros c _ Hc; cbn [left_tnet t_sl t_sr].
  destruct (Nat.eq_dec (base c) m); [reflexivity | contradiction].
Qed.

End Step.

Lemma kinks_independent_left (T : tnet) (m : nat) :
  ordered_tnet base T -> kinks_independent T ->
  (forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c <= m)%nat) ->
  kinks_independent (left_tnet base T m).
Proof.
  intros HO HI Hk c v Hc E; cbn [left_tnet t_sl t_sr t_N] in Hc, E.
  destruct (Nat.eq_dec (base c) m) as [|Hne]; [contradiction|].
  assert (Hlt : (base c < m)%nat) by (specialize (Hk c Hc E); lia).
  change (t_sl (left_tnet base T m)) with (t_sl T).
  change (ty (left_tnet base T m) (lin (t_sl T)) v c) with (ty T (lin (t_sl T)) v c).
  change (ty (left_tnet base T m) (hat (left_tnet base T m)) v c) with (ty T (hat (left_tnet base T m)) v c).
  rewrite <- (HI c v Hc E).
  assert (Hag : forall c' t, (c' < t_N T)%nat -> (base c' < m)%nat ->
                  hat (left_tnet base T m) c' t = hat T c' t).
  { intros c' t _ Hb; unfold hat; cbn [left_tnet t_sl t_sr].
    destruct (Nat.eq_dec (base c') m); [lia | reflexivity]. }
  exact (proj2 (lower_agree_cls base T m HO _ _ v Hag c Hc) ltac:(lia)).
Qed.

(** * The exact condition on tangent networks *)

Theorem independent_linear_iff_below (M : nat) : forall T, tied_tnet base bias T -> kinks_independent T ->
  (forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c < M)%nat) ->
  ((exists G, tlinear T (hat T) G) <-> forall m, forms_groups T m).
Proof.
  induction M as [|M IH]; intros T HT HI Hk.
  - assert (Hall : forall c, (c < t_N T)%nat -> t_sl T c = t_sr T c)
      by (intros c Hc; destruct (Req_dec (t_sl T c) (t_sr T c)) as [|E]; [assumption | specialize (Hk c Hc E); lia]).
    split; intros _.
    + intros m; apply forms_groups_unkinked; intros c Hc _; apply Hall, Hc.
    + eexists; apply unkinked_linear, Hall.
  - destruct (classic (exists c0, (c0 < t_N T)%nat /\ base c0 = M /\ t_sl T c0 <> t_sr T c0))
      as [[c0 [Hc0 [Hm Hk0]]]|Hno].
    2:{ assert (Hk' : forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c < M)%nat).
        { intros c Hc E; specialize (Hk c Hc E).
          destruct (Nat.eq_dec (base c) M); [exfalso; apply Hno; exists c; repeat split; assumption | lia]. }
        exact (IH T HT HI Hk'). }
    assert (HO := tied_ordered base bias T HT).
    assert (Hup : forall c, (c < t_N T)%nat -> (M < base c)%nat -> t_sl T c = t_sr T c).
    { intros c Hc Hlt; destruct (Req_dec (t_sl T c) (t_sr T c)) as [|E]; [assumption|].
      specialize (Hk c Hc E); lia. }
    assert (HG := fun G => topmost_linear_iff_groups_tied base bias T M c0 HT Hc0 Hm Hk0 Hup G).
    (* the groups of equal values are the groups of equal forms *)
    assert (Hgr : (forall v, supported (t_W T) v -> forall tau,
                    sumn (t_N T) (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa base T M c else 0) = 0) <->
                  forms_groups T M).
    { unfold forms_groups; rewrite <- (forms_groups_iff (t_W T) (t_N T) (tform T) (kappa base T M)).
      assert (E : forall v tau,
        sumn (t_N T) (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa base T M c else 0) =
        sumn (t_N T) (fun c => if Req_EM_T (form_at (t_W T) (tform T) v c) tau then kappa base T M c else 0)).
      { intros v tau; apply sumn_ext; intros c Hc.
        destruct (Req_dec (t_sl T c) (t_sr T c)) as [Hs|Hs];
          [rewrite kappa_unkinked by exact Hs; destruct (Req_EM_T _ _), (Req_EM_T _ _); reflexivity|].
        rewrite (HI c v Hc Hs), (proj2 (tz_lin_linear T (t_sl T) v c Hc)); reflexivity. }
      split; intros H v Hv tau; [rewrite <- E | rewrite E]; apply H, Hv. }
    (* the left network: tied, independent, kinked below M *)
    assert (HkL : forall c, (c < t_N (left_tnet base T M))%nat ->
                    t_sl (left_tnet base T M) c <> t_sr (left_tnet base T M) c -> (base c < M)%nat).
    { intros c Hc E; cbn [left_tnet t_sl t_sr t_N] in Hc, E.
      destruct (Nat.eq_dec (base c) M); [contradiction|]; specialize (Hk c Hc E); lia. }
    assert (Hk'' : forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c <= M)%nat)
      by (intros c Hc E; specialize (Hk c Hc E); lia).
    assert (IHL := IH (left_tnet base T M) (left_tnet_tied base bias T M HT)
                     (kinks_independent_left T M HO HI Hk'') HkL).
    split.
    + intros [G HL] m'; destruct (proj1 (HG G) HL) as [HLL Hz].
      destruct (Nat.eq_dec m' M) as [->|Hne]; [apply Hgr, Hz|].
      apply (forms_groups_left T M m' Hne), (proj1 IHL); exists G; exact HLL.
    + intros Hall.
      destruct (proj2 IHL) as [G HLL].
      { intros m'; destruct (Nat.eq_dec m' M) as [->|Hne]; [apply forms_groups_left_self|].
        apply (forms_groups_left T M m' Hne), Hall. }
      exists G; apply (proj2 (HG G)); split; [exact HLL | apply Hgr, Hall].
Qed.

End Independent.

(** * The network *)

Section Network.
Variables (net : network) (cls bias : nat -> nat) (w : vec).
Hypothesis Hwf : wf net.
Hypothesis Htied : tied_bias net cls bias.

Theorem tied_independent_iff :
  kinks_independent (tnet_of net w) ->
  (differentiable (n_params net) (net_eval net) w <-> forall m, single_class_groups net cls w m).
Proof.
  intros HI; set (T := tnet_of net w).
  assert (HT := tnet_of_tied net cls bias w Hwf Htied).
  set (Km := S (list_max (map cls (seq 0 (n_size net))))).
  assert (HKm : forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (cls c < Km)%nat).
  { intros c Hc _; unfold Km; apply Nat.lt_succ_r.
    pose proof (proj1 (list_max_le (map cls (seq 0 (n_size net))) _) (le_n _)) as H.
    rewrite Forall_forall in H; apply H, in_map, in_seq; cbn [T t_N tnet_of] in Hc; lia. }
  assert (H := independent_linear_iff_below cls bias Km T HT HI HKm).
  split.
  - intros [g Hd] m; exact (proj1 H (ex_intro _ g (tangent_linear_of_differentiable net w Hwf g Hd)) m).
  - intros Hall; destruct (proj2 H Hall) as [G HG]; exists G.
    exact (differentiable_of_tangent_linear net w Hwf G HG).
Qed.

End Network.
