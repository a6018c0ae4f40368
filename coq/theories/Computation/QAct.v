(* Computable activations over Q (THEORY.md section 2; issue 10, item 9,
   "certified numbers").  The piecewise-linear activations of Activation.v
   (identity, relu, leaky_relu s, hardtanh, relu6, hardsigmoid, abs) named by
   a tag [qact], with their breakpoints, piece slopes and intercepts as lists
   of rationals; sigma(x), the one-sided slopes, "x is a kink" and the
   derivative with a choice d, computed over Q and proved equal to the real
   definitions of Activation.v at rational points.  [qtorch] is PyTorch's
   derivative at the kinks (the table of section 2). *)
From Coq Require Import Reals QArith Qreals Lra Lia List.
From ADCorrect Require Import Activation.
Import ListNotations.

(** * Definitions *)

Inductive qact : Type :=
  | QIdentity | QRelu | QLeaky (s : Q) | QHardtanh | QRelu6 | QHardsigmoid | QAbs.

(* the real activation of Activation.v that the tag names *)
Definition act_of (a : qact) : activation :=
  match a with
  | QIdentity => act_id
  | QRelu => relu
  | QLeaky s => leaky_relu (Q2R s)
  | QHardtanh => hardtanh
  | QRelu6 => relu6
  | QHardsigmoid => hardsigmoid
  | QAbs => abs_act
  end.

Open Scope Q_scope.

(* breakpoints c_0 < ... < c_(m-1), slopes and intercepts of the pieces *)
Definition qbps (a : qact) : list Q :=
  match a with
  | QIdentity => []
  | QRelu | QLeaky _ | QAbs => [0]
  | QHardtanh => [-1; 1]
  | QRelu6 => [0; 6]
  | QHardsigmoid => [-3; 3]
  end.

Definition qslopes (a : qact) : list Q :=
  match a with
  | QIdentity => [1]
  | QRelu => [0; 1]
  | QLeaky s => [s; 1]
  | QHardtanh | QRelu6 => [0; 1; 0]
  | QHardsigmoid => [0; 1 # 6; 0]
  | QAbs => [-1; 1]
  end.

Definition qicepts (a : qact) : list Q :=
  match a with
  | QIdentity => [0]
  | QRelu | QLeaky _ | QAbs => [0; 0]
  | QHardtanh => [-1; 0; 1]
  | QRelu6 => [0; 0; 6]
  | QHardsigmoid => [0; 1 # 2; 1]
  end.

(* PyTorch's derivative at the kinks (the same at every kink of these) *)
Definition qtorch (a : qact) : Q :=
  match a with
  | QLeaky s => s
  | _ => 0
  end.

Definition qlt_b (x y : Q) : bool := negb (Qle_bool y x).

Definition qnbelow (l : list Q) (x : Q) : nat := length (filter (fun c => qlt_b c x) l).
Definition qnle (l : list Q) (x : Q) : nat := length (filter (fun c => Qle_bool c x) l).

Definition qact_eval (a : qact) (x : Q) : Q :=
  let i := qnbelow (qbps a) x in nth i (qslopes a) 0 * x + nth i (qicepts a) 0.

Definition qslope_left (a : qact) (x : Q) : Q := nth (qnbelow (qbps a) x) (qslopes a) 0.
Definition qslope_right (a : qact) (x : Q) : Q := nth (qnle (qbps a) x) (qslopes a) 0.

Definition qis_kink (a : qact) (x : Q) : bool :=
  existsb (Qeq_bool x) (qbps a) && negb (Qeq_bool (qslope_left a x) (qslope_right a x)).

(* the derivative used by AD: d at a kink, the (common) slope elsewhere *)
Definition qderiv (a : qact) (d x : Q) : Q :=
  if qis_kink a x then d else qslope_right a x.

Close Scope Q_scope.
Open Scope R_scope.

(** * Rationals as reals *)

Lemma Q2R_0 : Q2R 0 = 0.
Proof. unfold Q2R; simpl; field. Qed.

Lemma Q2R_1 : Q2R 1 = 1.
Proof. unfold Q2R; simpl; field. Qed.

Lemma nth_map_Q2R (l : list Q) (i : nat) : nth i (map Q2R l) 0 = Q2R (nth i l 0%Q).
Proof. rewrite <- Q2R_0 at 1; apply map_nth. Qed.

Lemma Q2R_lt_b (x y : Q) : qlt_b x y = true <-> Q2R x < Q2R y.
Proof.
  unfold qlt_b; rewrite Bool.negb_true_iff; split.
  - intros H; apply Qlt_Rlt, Qnot_le_lt; intros Hle.
    apply Qle_bool_iff in Hle; congruence.
  - intros H; destruct (Qle_bool y x) eqn:E; [|reflexivity].
    apply Qle_bool_iff, Qle_Rle in E; lra.
Qed.

Lemma Q2R_le_b (x y : Q) : Qle_bool x y = true <-> Q2R x <= Q2R y.
Proof.
  rewrite Qle_bool_iff; split; [apply Qle_Rle | apply Rle_Qle].
Qed.

Lemma Q2R_eq_b (x y : Q) : Qeq_bool x y = true <-> Q2R x = Q2R y.
Proof.
  rewrite Qeq_bool_iff; split; [apply Qeq_eqR | apply eqR_Qeq].
Qed.

Lemma Q2R_neq_b (x y : Q) : Qeq_bool x y = false <-> Q2R x <> Q2R y.
Proof.
  rewrite <- Q2R_eq_b; destruct (Qeq_bool x y); split; congruence.
Qed.

Lemma In_map_Q2R (l : list Q) (x : Q) : In (Q2R x) (map Q2R l) <-> existsb (Qeq_bool x) l = true.
Proof.
  rewrite existsb_exists, in_map_iff; split.
  - intros [y [Hy Hin]]; exists y; split; [exact Hin|]; apply Q2R_eq_b; auto.
  - intros [y [Hin Hy]]; exists y; split; [|exact Hin]; apply Q2R_eq_b in Hy; auto.
Qed.

(** * Breakpoint counting *)

Lemma nbelow_Q2R (l : list Q) (x : Q) : nbelow (map Q2R l) (Q2R x) = qnbelow l x.
Proof.
  induction l as [|c l IH]; [reflexivity|].
  simpl map; rewrite nbelow_cons, IH; unfold qnbelow; simpl filter.
  destruct (Rlt_dec (Q2R c) (Q2R x)) as [H|H]; destruct (qlt_b c x) eqn:E;
    try reflexivity; exfalso.
  - rewrite <- Q2R_lt_b, E in H; discriminate.
  - apply Q2R_lt_b in E; tauto.
Qed.

Lemma nle_Q2R (l : list Q) (x : Q) : nle (map Q2R l) (Q2R x) = qnle l x.
Proof.
  induction l as [|c l IH]; [reflexivity|].
  simpl map; rewrite nle_cons, IH; unfold qnle; simpl filter.
  destruct (Rle_dec (Q2R c) (Q2R x)) as [H|H]; destruct (Qle_bool c x) eqn:E;
    try reflexivity; exfalso.
  - rewrite <- Q2R_le_b, E in H; discriminate.
  - apply Q2R_le_b in E; tauto.
Qed.

(** * The tags describe the activations of Activation.v *)

Lemma Q2R_lit (z : Z) (p : positive) : Q2R (z # p) = IZR z / IZR (Zpos p).
Proof. reflexivity. Qed.

Ltac Q2R_lits := rewrite ?Q2R_lit; field.

Lemma act_of_pl (a : qact) :
  bps (act_of a) = map Q2R (qbps a) /\
  (forall i x,
     piece (act_of a) i x = Q2R (nth i (qslopes a) 0%Q) * x + Q2R (nth i (qicepts a) 0%Q)) /\
  (forall i x, dpiece (act_of a) i x = Q2R (nth i (qslopes a) 0%Q)).
Proof.
  destruct a; simpl; unfold pl_piece, pl_dpiece;
    (split; [repeat f_equal; Q2R_lits|]);
    (split; intros i; [intros x|intros _]);
    (do 3 (destruct i as [|i]; [simpl; Q2R_lits|]); destruct i; simpl; Q2R_lits).
Qed.

Lemma bps_act_of (a : qact) : bps (act_of a) = map Q2R (qbps a).
Proof. apply act_of_pl. Qed.

Lemma piece_act_of (a : qact) (i : nat) (x : R) :
  piece (act_of a) i x = Q2R (nth i (qslopes a) 0%Q) * x + Q2R (nth i (qicepts a) 0%Q).
Proof. apply act_of_pl. Qed.

Lemma dpiece_act_of (a : qact) (i : nat) (x : R) :
  dpiece (act_of a) i x = Q2R (nth i (qslopes a) 0%Q).
Proof. apply act_of_pl. Qed.

(** * Values, slopes, kinks and derivatives at rational points *)

Theorem qact_eval_correct (a : qact) (x : Q) :
  act_eval (act_of a) (Q2R x) = Q2R (qact_eval a x).
Proof.
  unfold act_eval, qact_eval; rewrite piece_act_of, bps_act_of, nbelow_Q2R.
  rewrite Q2R_plus, Q2R_mult; reflexivity.
Qed.

Lemma qslope_left_correct (a : qact) (x : Q) :
  slope_left (act_of a) (Q2R x) = Q2R (qslope_left a x).
Proof.
  unfold slope_left, left_piece; rewrite dpiece_act_of, bps_act_of, nbelow_Q2R; reflexivity.
Qed.

Lemma qslope_right_correct (a : qact) (x : Q) :
  slope_right (act_of a) (Q2R x) = Q2R (qslope_right a x).
Proof. unfold slope_right, right_piece; rewrite dpiece_act_of, bps_act_of, nle_Q2R; reflexivity. Qed.

Theorem qis_kink_correct (a : qact) (x : Q) :
  In (Q2R x) (kinks (act_of a)) <-> qis_kink a x = true.
Proof.
  rewrite kinks_spec; unfold is_kink, qis_kink.
  rewrite bps_act_of, In_map_Q2R, qslope_left_correct, qslope_right_correct.
  rewrite Bool.andb_true_iff, Bool.negb_true_iff, Q2R_neq_b; tauto.
Qed.

Theorem qderiv_correct (a : qact) (d x : Q) :
  act_deriv_choice (act_of a) (Q2R d) (Q2R x) = Q2R (qderiv a d x).
Proof.
  unfold act_deriv_choice, qderiv.
  destruct (in_dec Req_EM_T (Q2R x) (kinks (act_of a))) as [H|H];
    rewrite qis_kink_correct in H.
  - rewrite H; reflexivity.
  - destruct (qis_kink a x); [tauto|]; apply qslope_right_correct.
Qed.
