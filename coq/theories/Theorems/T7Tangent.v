(* T7 on tangent networks (THEORY.md section 8.1, "Tied networks"; issue
   18, item 1): T6Tangent.v's theorem with the bias required of the kinked
   classes only.  A tied tangent network: every neuron c has a class base c;
   neurons only read neurons of lower classes; for every neuron c' that is
   kinked (t_sl c' <> t_sr c'), the direction coordinate bias (base c') enters
   every neuron of the class of c' with coefficient 1 and no other neuron.
   Classes with no kinked neuron need no bias (identity or smooth
   activations, or kinked activations none of whose neurons sits on a kink
   at w).  A batched tangent network is a tied one (batched_tnet_tied).
   The induction on the topmost kinked class m uses the lemmas of
   TangentClasses.v, which need the classes ordered (tied_ordered) and a
   bias for class m (tied_class_bias, from a kinked neuron c0 of m); the left
   and psi networks stay tied because they have fewer kinked neurons.
   T6Tangent.v's theorems are corollaries (batched_tnet_tied). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Network AD Tangent TangentClasses.
Import ListNotations.
Open Scope R_scope.

Section TiedTangent.
Variables (base bias : nat -> nat) (theta : nat -> R).

Local Notation theta_slopes := (TangentClasses.theta_slopes base theta).
Local Notation left_tnet := (TangentClasses.left_tnet base).
Local Notation injF := (TangentClasses.injF base).
Local Notation Lam := (TangentClasses.Lam base).
Local Notation zeta := (TangentClasses.zeta base).
Local Notation kappa := (TangentClasses.kappa base).
Local Notation psi_tnet := (TangentClasses.psi_tnet base).
Local Notation Lam_ext := (TangentClasses.Lam_ext base).
Local Notation Lam_scal := (TangentClasses.Lam_scal base).
Local Notation inject_actual_out := (TangentClasses.inject_actual_out base).

(** * Definitions *)

(* the bias of the class of every kinked neuron moves exactly that class *)
Definition tied_tnet (T : tnet) : Prop :=
  (forall c j, (c < t_N T)%nat -> (c <= j)%nat -> t_B T c j = 0) /\
  (forall c', (c' < t_N T)%nat -> t_sl T c' <> t_sr T c' ->
     (bias (base c') < t_W T)%nat /\
     forall c, (c < t_N T)%nat ->
       t_A T c (bias (base c')) = if Nat.eq_dec (base c) (base c') then 1 else 0) /\
  (forall c j, (j < c)%nat -> (c < t_N T)%nat -> t_B T c j <> 0 -> (base j < base c)%nat).

(** * Basic facts *)

Lemma batched_tnet_tied (T : tnet) : batched_tnet base bias T -> tied_tnet T.
Proof.
  intros (H0 & HA & HW & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' _; split; [apply HW, Hc'|]; intros c Hc; apply HA; assumption.
Qed.

Lemma tied_ordered (T : tnet) : tied_tnet T -> ordered_tnet base T.
Proof. intros (H0 & _ & HB); split; assumption. Qed.

(* a kinked neuron c0 gives its class a bias *)
Lemma tied_class_bias (T : tnet) (c0 : nat) : tied_tnet T ->
  (c0 < t_N T)%nat -> t_sl T c0 <> t_sr T c0 -> class_bias_tnet base T (base c0) (bias (base c0)).
Proof. intros (_ & HA & _) Hc0 Hk0; exact (HA c0 Hc0 Hk0). Qed.

Lemma left_tnet_tied T m : tied_tnet T -> tied_tnet (left_tnet T m).
Proof.
  intros (H0 & HA & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' Hk; cbn [TangentClasses.left_tnet t_sl t_sr t_N t_W t_A] in *.
  destruct (Nat.eq_dec (base c') m); [contradiction|]; apply HA; assumption.
Qed.

Lemma psi_tnet_tied T m : tied_tnet T -> tied_tnet (psi_tnet T m).
Proof.
  intros (H0 & HA & HB); split; [exact H0|]; split; [|exact HB].
  intros c' Hc' Hk; cbn [TangentClasses.psi_tnet t_sl t_sr t_N t_W t_A] in *.
  destruct (Nat.eq_dec (base c') m); [contradiction|]; apply HA; assumption.
Qed.

(** * The topmost kinked class *)

Section Topmost.
Variables (T : tnet) (m c0 : nat).
Hypothesis HT : tied_tnet T.
Hypothesis Hc0 : (c0 < t_N T)%nat.
Hypothesis Hm : base c0 = m.
Hypothesis Hk0 : t_sl T c0 <> t_sr T c0.
(* no neuron above class m is kinked *)
Hypothesis Hup : forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c.

Lemma class_bias_topmost_tied : class_bias_tnet base T m (bias m).
Proof. rewrite <- Hm; apply tied_class_bias; assumption. Qed.

(* the exact recursive condition: phi is linear with gradient G iff the left
   network is, and the kinks of class m cancel in every direction *)
Theorem topmost_linear_iff_tied (G : vec) :
  tlinear T (hat T) G <->
  tlinear (left_tnet T m) (hat (left_tnet T m)) G /\
  (forall v, supported (t_W T) v -> sumn (t_N T) (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0) = 0).
Proof.
  exact (topmost_linear_iff_cls base T m c0 (bias m) (tied_ordered T HT) class_bias_topmost_tied Hc0 Hup G).
Qed.

(* the same with the kinks grouped by the value of their tangent *)
Theorem topmost_linear_iff_groups_tied (G : vec) :
  tlinear T (hat T) G <->
  tlinear (left_tnet T m) (hat (left_tnet T m)) G /\
  (forall v, supported (t_W T) v -> forall tau,
     sumn (t_N T) (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa T m c else 0) = 0).
Proof.
  exact (topmost_linear_iff_groups_cls base T m c0 (bias m) (tied_ordered T HT) class_bias_topmost_tied Hc0 Hup G).
Qed.

End Topmost.

(** * The induction *)

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
    assert (Hcb : class_bias_tnet base T m b) by (unfold b; rewrite <- Hm; apply tied_class_bias; assumption).
    assert (HO := tied_ordered T HT).
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
    assert (Hfacts := topmost_facts_cls base T m c0 b HO Hcb Hc0 Hup G Hlin).
    (* the left network and psi, both with kinked copies below m only *)
    assert (HkL : forall c, (c < t_N TL)%nat -> t_sl TL c <> t_sr TL c -> (base c < m)%nat).
    { intros c Hc Hne; unfold TL, left_tnet in Hne; cbn [t_sl t_sr] in Hne.
      destruct (Nat.eq_dec (base c) m); [contradiction|]; specialize (Hk c Hc Hne); lia. }
    assert (HlinL : tlinear TL (lin (theta_slopes TL)) G).
    { apply (IH TL G (left_tnet_tied T m HT) HkL); intros v Hv; exact (proj1 (Hfacts v Hv)). }
    assert (Hpsi : tlinear (psi_tnet T m) (lin (theta_slopes (psi_tnet T m))) vzero).
    { apply (IH (psi_tnet T m) vzero (psi_tnet_tied T m HT) HkL).
      intros v Hv; rewrite dot_vzero_l, psi_tout_cls by exact HO.
      rewrite <- (proj2 (Hfacts v Hv)), (Lam_sum_cls base T m HO b _ Hcb).
      apply sumn_ext; intros c Hc; unfold kappa; destruct (Nat.eq_dec (base c) m); [|ring].
      change (hat (psi_tnet T m)) with FL.
      rewrite (proj2 (lower_agree_cls base T m HO FL (hat T) v Hagree c Hc)) by lia; ring. }
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
    assert (Hsup := superposition_cls base T m HO b Hcb (lin xl)
                      (fun c => lin x c (ty T (lin x) v c)) (fun c => lin xl c (ty T (lin xl) v c)) v 0 Hxl_up).
    rewrite vscale_0_l, vadd_vzero_r, Rmult_0_l, Rplus_0_l in Hsup.
    rewrite <- Hxinj, !inject_actual_out in Hsup.
    rewrite (Lam_ext T m _ (fun c => theta m * ((t_sr T c - t_sl T c) * ty T (lin xl) v c))), Lam_scal in Hsup.
    2:{ intros c Hc Hbc.
        rewrite (proj2 (lower_agree_cls base T m HO (lin x) (lin xl) v (fun c t Hc Hb => eq_sym (Hxagree c t Hc Hb)) c Hc))
          by lia.
        unfold lin, x, xl, theta_slopes, TL, left_tnet; cbn [t_sl t_sr].
        destruct (Nat.eq_dec (base c) m); [|contradiction]; rewrite Hbc; ring. }
    assert (Hzero : Lam T m (fun c => (t_sr T c - t_sl T c) * ty T (lin xl) v c) = 0).
    { rewrite (Lam_sum_cls base T m HO b _ Hcb).
      assert (Hp := Hpsi v Hv); rewrite dot_vzero_l, psi_tout_cls in Hp by exact HO.
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
