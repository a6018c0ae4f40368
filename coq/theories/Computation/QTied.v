(* A computable exact test of differentiability for tied-bias networks over
   Q (THEORY.md section 8.1; issue 18, "Coq V", item 3), equal to the real
   condition as computable_NS_iff is for single networks.  Any network
   shape (batches, convolutions, token-wise layers: a tied-bias network of
   Tied.v with classes cls), at rational points u whose kinked neurons lie
   in one class m (T7Single.v).  Over Q, on the tangent network at u:
   - [qtzs]: the forward pass of the tangent network with activations Fq;
   - [qform c p]: the tangent of y_c along e_p, all slopes left (a_c p);
   - [qzeta m c]: the output with 1 injected at c, 0 at the other neurons of
     class m (Lam (e_c)), and [qkappa m c] = zeta_c (sigma'_+ - sigma'_-);
   - [qgroups m]: for every c0, the qkappa of the neurons with the form of
     c0 sum to 0;
   - [qtied_test]: Some (qgroups m) when all kinked neurons are in the class
     m of the first one (Some true when none is kinked), None otherwise.
   [qtied_test_correct]: Some b means "differentiable iff b = true";
   [qtied_test_some]: the answer is Some exactly when the kinked neurons lie
   in one class (QTiedIndep.v: several classes, independent kinks). *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD Tangent TangentClasses
  Tied T7Single.
From ADCorrect Require Import QAct QNet QAD QDecide.
Import ListNotations.

(** * Definitions *)

Open Scope Q_scope.

Definition qsumn (k : nat) (f : nat -> Q) : Q := qsum (map f (seq 0 k)).

Section QTangent.
Variables (n : qnet) (cls : nat -> nat) (u : list Q).
Local Notation zs := (qzvec n u).
Local Notation W := (q_params n).
Local Notation N := (qsize n).

(* the tangent network at u *)
Definition qA (c p : nat) : Q := qdparam (q_input n) u zs p (qtau n c).
Definition qB (c j : nat) : Q := qdneuron (q_input n) u zs j (qtau n c).
Definition qd (p : nat) : Q := qdparam (q_input n) u zs p (q_out n).
Definition qg (j : nat) : Q := qdneuron (q_input n) u zs j (q_out n).
Definition qsl (c : nat) : Q := qslope_left (qsig n c) (qpreact n u zs c).
Definition qsr (c : nat) : Q := qslope_right (qsig n c) (qpreact n u zs c).

(* the forward pass with activations Fq, direction v *)
Fixpoint qtzs (Fq : nat -> Q -> Q) (v : list Q) (k : nat) : list Q :=
  match k with
  | O => []
  | S k' => let zd := qtzs Fq v k' in
      zd ++ [Fq k' (qsumn W (fun p => nth p v 0 * qA k' p) + qsumn k' (fun i => nth i zd 0 * qB k' i))]
  end.

Definition qtz (Fq : nat -> Q -> Q) (v : list Q) (j : nat) : Q := nth j (qtzs Fq v N) 0.
Definition qty (Fq : nat -> Q -> Q) (v : list Q) (c : nat) : Q :=
  qsumn W (fun p => nth p v 0 * qA c p) + qsumn c (fun i => qtz Fq v i * qB c i).
Definition qtout (Fq : nat -> Q -> Q) (v : list Q) : Q :=
  qsumn W (fun p => nth p v 0 * qd p) + qsumn N (fun j => qtz Fq v j * qg j).

Definition qunit (p : nat) : list Q := map (fun q => if Nat.eqb q p then 1 else 0) (seq 0 W).

(* a_c p, zeta_c, kappa_c *)
Definition qform (c p : nat) : Q := qty (fun c t => qsl c * t) (qunit p) c.
Definition qinj (m c0 : nat) : nat -> Q -> Q :=
  fun c t => if Nat.eqb (cls c) m then (if Nat.eqb c c0 then 1 else 0) else qsl c * t.
Definition qzeta (m c : nat) : Q := qtout (qinj m c) [].
Definition qkappa (m c : nat) : Q := if Nat.eqb (cls c) m then qzeta m c * (qsr c - qsl c) else 0.

Definition qagree (c0 c : nat) : bool := forallb (fun p => Qeq_bool (qform c p) (qform c0 p)) (seq 0 W).

Definition qgroups (m : nat) : bool :=
  forallb (fun c0 => Qeq_bool (qsumn N (fun c => if qagree c0 c then qkappa m c else 0)) 0) (seq 0 N).

Definition qtied_test : option bool :=
  match qkink_neurons n u zs with
  | [] => Some true
  | c0 :: _ => if forallb (fun c => Nat.eqb (cls c) (cls c0)) (qkink_neurons n u zs)
               then Some (qgroups (cls c0)) else None
  end.

End QTangent.

Close Scope Q_scope.
Open Scope R_scope.

(** * Basic facts *)

Lemma Q2R_qsumn (k : nat) (f : nat -> R) (g : nat -> Q) :
  (forall i, (i < k)%nat -> f i = Q2R (g i)) -> sumn k f = Q2R (qsumn k g).
Proof. intros H; apply sum_list_Q2R; intros i Hi; apply in_seq in Hi; apply H; lia. Qed.

Lemma forallb_ext_in' {A : Type} (f g : A -> bool) (l : list A) :
  (forall x, In x l -> f x = g x) -> forallb f l = forallb g l.
Proof.
  induction l as [|x l IH]; intros H; [reflexivity|]; simpl.
  rewrite H, IH; [reflexivity | intros y Hy; apply H; right; exact Hy | left; reflexivity].
Qed.

Lemma tzs_ge (T : tnet) (F : nat -> R -> R) (v : vec) (k j : nat) : (k <= j)%nat -> tzs T F v k j = 0.
Proof.
  induction k as [|k IH]; intros Hj; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j k); [lia | apply IH; lia].
Qed.

(** * Correctness *)

Section Correct.
Variables (n : qnet) (cls : nat -> nat) (u : list Q).
Local Notation net := (to_network n).
Local Notation wv := (qpoint u).
Local Notation T := (tnet_of (to_network n) (qpoint u)).
Local Notation W := (q_params n).
Local Notation N := (qsize n).

Lemma qtzs_length (Fq : nat -> Q -> Q) (v : list Q) (k : nat) : length (qtzs n u Fq v k) = k.
Proof. induction k as [|k IH]; simpl; [reflexivity|]; rewrite app_length, IH; simpl; lia. Qed.

Lemma qA_correct (c p : nat) : (c < N)%nat -> t_A T c p = Q2R (qA n u c p).
Proof. intros Hc; cbn [t_A tnet_of]; unfold dw_coef; rewrite to_network_tau by exact Hc; apply dparam_correct. Qed.

Lemma qB_correct (c j : nat) : (c < N)%nat -> t_B T c j = Q2R (qB n u c j).
Proof. intros Hc; cbn [t_B tnet_of]; unfold dz_coef; rewrite to_network_tau by exact Hc; apply dneuron_correct. Qed.

Lemma qd_correct (p : nat) : t_d T p = Q2R (qd n u p).
Proof. cbn [t_d tnet_of]; apply dparam_correct. Qed.

Lemma qg_correct (j : nat) : t_g T j = Q2R (qg n u j).
Proof. cbn [t_g tnet_of]; apply dneuron_correct. Qed.

Lemma qsl_correct (c : nat) : (c < N)%nat -> t_sl T c = Q2R (qsl n u c).
Proof.
  intros Hc; cbn [t_sl tnet_of]; rewrite to_network_sigma, qpreact_correct by exact Hc.
  apply qslope_left_correct.
Qed.

Lemma qsr_correct (c : nat) : (c < N)%nat -> t_sr T c = Q2R (qsr n u c).
Proof.
  intros Hc; cbn [t_sr tnet_of]; rewrite to_network_sigma, qpreact_correct by exact Hc.
  apply qslope_right_correct.
Qed.

Section Forward.
Variables (F : nat -> R -> R) (Fq : nat -> Q -> Q) (v : vec) (vq : list Q).
Hypothesis HF : forall c t, (c < N)%nat -> F c (Q2R t) = Q2R (Fq c t).
Hypothesis Hv : forall p, v p = Q2R (nth p vq 0%Q).

Lemma qtzs_correct (k : nat) : (k <= N)%nat ->
  forall j, tzs T F v k j = Q2R (nth j (qtzs n u Fq vq k) 0%Q).
Proof.
  induction k as [|k IH]; intros Hk j; [simpl; destruct j; symmetry; apply Q2R_0|].
  cbn [tzs qtzs]; destruct (Nat.eq_dec j k) as [->|Hne].
  - rewrite app_nth2 by (rewrite qtzs_length; lia); rewrite qtzs_length, Nat.sub_diag; cbn [nth].
    rewrite <- HF by lia; f_equal; rewrite Q2R_plus; f_equal.
    + apply Q2R_qsumn; intros p _; rewrite Q2R_mult, Hv, qA_correct by lia; reflexivity.
    + apply Q2R_qsumn; intros i Hi; rewrite Q2R_mult, IH, qB_correct by lia; reflexivity.
  - destruct (Nat.lt_ge_cases j k) as [Hj|Hj].
    + rewrite app_nth1 by (rewrite qtzs_length; lia); apply IH; lia.
    + rewrite tzs_ge by lia; rewrite nth_overflow by (rewrite app_length, qtzs_length; simpl; lia).
      symmetry; apply Q2R_0.
Qed.

Lemma qtz_correct (j : nat) : tz T F v j = Q2R (qtz n u Fq vq j).
Proof. unfold tz, qtz; cbn [t_N tnet_of]; rewrite to_network_size; apply qtzs_correct; lia. Qed.

Lemma qty_correct (c : nat) : (c < N)%nat -> ty T F v c = Q2R (qty n u Fq vq c).
Proof.
  intros Hc; unfold ty, qty; rewrite Q2R_plus; cbn [t_W tnet_of]; f_equal.
  - apply Q2R_qsumn; intros p _; rewrite Q2R_mult, Hv, qA_correct by exact Hc; reflexivity.
  - apply Q2R_qsumn; intros i _; rewrite Q2R_mult, qtz_correct, qB_correct by exact Hc; reflexivity.
Qed.

Lemma qtout_correct : tout T F v = Q2R (qtout n u Fq vq).
Proof.
  unfold tout, qtout; rewrite Q2R_plus; cbn [t_W t_N tnet_of]; rewrite to_network_size; f_equal.
  - apply Q2R_qsumn; intros p _; rewrite Q2R_mult, Hv, qd_correct; reflexivity.
  - apply Q2R_qsumn; intros j _; rewrite Q2R_mult, qtz_correct, qg_correct; reflexivity.
Qed.

End Forward.

Lemma qunit_correct (p q : nat) : (p < W)%nat -> unit_vec p q = Q2R (nth q (qunit n p) 0%Q).
Proof.
  intros Hp; unfold qunit, unit_vec; destruct (Nat.lt_ge_cases q W) as [Hq|Hq].
  - rewrite nth_map_seq by exact Hq; destruct (Nat.eq_dec q p) as [->|Hne];
      [rewrite Nat.eqb_refl; symmetry; apply Q2R_1|].
    apply Nat.eqb_neq in Hne; rewrite Hne; symmetry; apply Q2R_0.
  - rewrite nth_overflow by (rewrite map_length, seq_length; lia).
    destruct (Nat.eq_dec q p); [lia | symmetry; apply Q2R_0].
Qed.

Lemma qform_correct (c p : nat) : (c < N)%nat -> (p < W)%nat -> lin_form net wv c p = Q2R (qform n u c p).
Proof.
  intros Hc Hp; unfold lin_form, qform; apply qty_correct; [|intros q; apply qunit_correct, Hp | exact Hc].
  intros c' t Hc'; unfold lin; rewrite Q2R_mult, qsl_correct by exact Hc'; reflexivity.
Qed.

Lemma qzeta_correct (m c : nat) : zeta cls T m c = Q2R (qzeta n cls u m c).
Proof.
  unfold zeta, Lam, qzeta; apply qtout_correct.
  - intros c' t Hc'; unfold injF, qinj, unit_vec.
    destruct (Nat.eq_dec (cls c') m) as [He|He].
    + rewrite (proj2 (Nat.eqb_eq _ _) He); destruct (Nat.eq_dec c' c) as [->|Hne];
        [rewrite Nat.eqb_refl; symmetry; apply Q2R_1 | apply Nat.eqb_neq in Hne; rewrite Hne; symmetry; apply Q2R_0].
    + apply Nat.eqb_neq in He; rewrite He, Q2R_mult, qsl_correct by exact Hc'; reflexivity.
  - intros p; unfold vzero; destruct p; symmetry; apply Q2R_0.
Qed.

Lemma qkappa_correct (m c : nat) : (c < N)%nat -> kappa cls T m c = Q2R (qkappa n cls u m c).
Proof.
  intros Hc; unfold kappa, qkappa; destruct (Nat.eq_dec (cls c) m) as [He|He].
  - rewrite (proj2 (Nat.eqb_eq _ _) He), Q2R_mult, Q2R_minus, qzeta_correct, qsl_correct, qsr_correct
      by exact Hc; reflexivity.
  - apply Nat.eqb_neq in He; rewrite He; symmetry; apply Q2R_0.
Qed.

Lemma qagree_correct (c0 c : nat) : (c0 < N)%nat -> (c < N)%nat ->
  forms_agree (lin_form net wv) (seq 0 (n_params net)) c0 c = qagree n u c0 c.
Proof.
  intros Hc0 Hc; unfold forms_agree, qagree; change (n_params net) with W.
  apply forallb_ext_in'; intros p Hp; apply in_seq in Hp.
  rewrite !qform_correct by lia.
  destruct (Req_EM_T _ _) as [E|E]; symmetry;
    [apply Q2R_eq_b, E | apply Q2R_neq_b, E].
Qed.

Lemma qgroups_correct (m : nat) : single_class_groups net cls wv m <-> qgroups n cls u m = true.
Proof.
  unfold single_class_groups, qgroups; rewrite forallb_forall, to_network_size.
  assert (E : forall c0, (c0 < N)%nat ->
    sumn N (fun c => if forms_agree (lin_form net wv) (seq 0 (n_params net)) c0 c
                     then kappa cls T m c else 0) =
    Q2R (qsumn N (fun c => if qagree n u c0 c then qkappa n cls u m c else 0%Q))).
  { intros c0 Hc0; apply Q2R_qsumn; intros c Hc; rewrite qagree_correct by lia.
    destruct (qagree n u c0 c); [apply qkappa_correct, Hc | symmetry; apply Q2R_0]. }
  split; intros H c0 Hc0.
  - apply in_seq in Hc0; apply Q2R_eq_b; rewrite Q2R_0, <- E by lia; apply H; lia.
  - assert (E0 := H c0 ltac:(apply in_seq; lia)); apply Q2R_eq_b in E0; rewrite Q2R_0 in E0.
    rewrite E by exact Hc0; exact E0.
Qed.

End Correct.

(** * The test *)

Lemma forallb_cls_spec (cls : nat -> nat) (m : nat) (l : list nat) :
  forallb (fun c => Nat.eqb (cls c) m) l = true <-> forall c, In c l -> cls c = m.
Proof. rewrite forallb_forall; split; intros H c Hc; apply Nat.eqb_eq, H, Hc. Qed.

(* Some b: f is differentiable at u iff b = true *)
Theorem qtied_test_correct (n : qnet) (cls bias : nat -> nat) (u : list Q) (b : bool) :
  qwf n = true -> tied_bias (to_network n) cls bias -> qtied_test n cls u = Some b ->
  (differentiable (q_params n) (net_eval (to_network n)) (qpoint u) <-> b = true).
Proof.
  intros Hq Ht; pose proof (qwf_correct n Hq) as Hwf; unfold qtied_test.
  change (q_params n) with (n_params (to_network n)).
  rewrite <- qkink_neurons_correct.
  destruct (kink_neurons (to_network n) (qpoint u)) as [|c0 l] eqn:Hk.
  - intros E; injection E as <-; split; [reflexivity|intros _].
    exists (ad (to_network n) (fun _ => 0) (qpoint u)); exact (no_kink_ad_correct _ _ _ Hwf Hk).
  - destruct (forallb _ (c0 :: l)) eqn:Hall; [|discriminate]; intros E; injection E as <-.
    rewrite <- Hk in Hall; pose proof (proj1 (forallb_cls_spec cls (cls c0) _) Hall) as Hall'.
    rewrite (tied_single_class_iff (to_network n) cls bias (qpoint u) Hwf Ht (cls c0) Hall').
    apply qgroups_correct.
Qed.

(* the test answers exactly when the kinked neurons lie in one class *)
Theorem qtied_test_some (n : qnet) (cls : nat -> nat) (u : list Q) :
  (exists b, qtied_test n cls u = Some b) <->
  (exists m, forall c, In c (kink_neurons (to_network n) (qpoint u)) -> cls c = m).
Proof.
  unfold qtied_test; rewrite <- qkink_neurons_correct.
  destruct (kink_neurons (to_network n) (qpoint u)) as [|c0 l] eqn:Hk.
  - split; [intros _; exists 0%nat; intros c [] | intros _; exists true; reflexivity].
  - split.
    + intros [b Hb]; destruct (forallb _ (c0 :: l)) eqn:Hall; [|discriminate].
      exists (cls c0); apply forallb_cls_spec, Hall.
    + intros [m Hm]; assert (Hm0 : cls c0 = m) by (apply Hm; left; reflexivity).
      assert (Hall : forallb (fun c => Nat.eqb (cls c) (cls c0)) (c0 :: l) = true)
        by (apply forallb_cls_spec; intros c Hc; rewrite Hm0; apply Hm, Hc).
      rewrite Hall; eexists; reflexivity.
Qed.
