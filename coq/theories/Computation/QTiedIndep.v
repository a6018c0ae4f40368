(* The computable test of QTied.v for kinks in several classes (THEORY.md
   section 8.1; issue 18, "Coq V", item 3; T7Independent.v).  Over Q at a
   rational point u:
   - [qcleans]: neuron i is clean if it is unkinked and reads (with a
     non-zero coefficient) only clean neurons: its tangent is linear;
   - [qindependent]: every kinked neuron reads only clean neurons (so the
     kinks are independent, [qindependent_correct]);
   - [qindep_test]: then Some (qgroups m for every class m of a kinked
     neuron), else None.
   [qindep_test_correct]: Some b means "differentiable iff b = true". *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Tangent TangentClasses
  Tied T7Single T7Independent.
From ADCorrect Require Import QAct QNet QAD QDecide QTied.
Import ListNotations.

(** * Definitions *)

Open Scope Q_scope.

Section QIndep.
Variables (n : qnet) (cls : nat -> nat) (u : list Q).
Local Notation N := (qsize n).

Definition qunk (c : nat) : bool := Qeq_bool (qsl n u c) (qsr n u c).

(* clean neurons: unkinked, reading only clean neurons *)
Fixpoint qcleans (k : nat) : list bool :=
  match k with
  | O => []
  | S k' => let cl := qcleans k' in
      cl ++ [qunk k' && forallb (fun j => Qeq_bool (qB n u k' j) 0 || nth j cl false) (seq 0 k')]
  end.

Definition qreads_clean (c : nat) : bool :=
  forallb (fun j => Qeq_bool (qB n u c j) 0 || nth j (qcleans N) false) (seq 0 c).

Definition qindependent : bool := forallb (fun c => qunk c || qreads_clean c) (seq 0 N).

Definition qindep_test : option bool :=
  if qindependent then Some (forallb (qgroups n cls u) (map cls (qkink_neurons n u (qzvec n u))))
  else None.

End QIndep.

Close Scope Q_scope.
Open Scope R_scope.

(** * Correctness *)

Section Correct.
Variables (n : qnet) (cls : nat -> nat) (u : list Q).
Local Notation net := (to_network n).
Local Notation wv := (qpoint u).
Local Notation T := (tnet_of (to_network n) (qpoint u)).
Local Notation N := (qsize n).

Lemma qunk_correct (c : nat) : (c < N)%nat -> qunk n u c = true -> t_sl T c = t_sr T c.
Proof. intros Hc H; rewrite qsl_correct, qsr_correct by exact Hc; apply Q2R_eq_b, H. Qed.

Lemma qB_zero (c j : nat) : (c < N)%nat -> Qeq_bool (qB n u c j) 0 = true -> t_B T c j = 0.
Proof. intros Hc H; rewrite qB_correct by exact Hc; apply Q2R_eq_b in H; rewrite H; apply Q2R_0. Qed.

Lemma qcleans_length (k : nat) : length (qcleans n u k) = k.
Proof. induction k as [|k IH]; simpl; [reflexivity|]; rewrite app_length, IH; simpl; lia. Qed.

Lemma qcleans_nth (k i : nat) : (i < k)%nat -> nth i (qcleans n u k) false = nth i (qcleans n u (S i)) false.
Proof.
  induction k as [|k IH]; intros Hi; [lia|].
  destruct (Nat.eq_dec i k) as [->|Hne]; [reflexivity|].
  cbn [qcleans]; rewrite app_nth1 by (rewrite qcleans_length; lia); apply IH; lia.
Qed.

Lemma qcleans_at (i : nat) : nth i (qcleans n u (S i)) false =
  qunk n u i && forallb (fun j => Qeq_bool (qB n u i j) 0 || nth j (qcleans n u i) false) (seq 0 i).
Proof. cbn [qcleans]; rewrite app_nth2 by (rewrite qcleans_length; lia); rewrite qcleans_length, Nat.sub_diag; reflexivity. Qed.

(* a neuron reading only clean neurons (or nothing) has the linear tangent *)
Lemma ty_reads_clean (c : nat) (v : vec) :
  (forall j, (j < c)%nat -> t_B T c j = 0 \/ tz T (hat T) v j = tz T (lin (t_sl T)) v j) ->
  ty T (hat T) v c = ty T (lin (t_sl T)) v c.
Proof.
  intros H; unfold ty; f_equal; apply sumn_ext; intros j Hj.
  destruct (H j Hj) as [E|E]; rewrite E; [ring | reflexivity].
Qed.

Lemma clean_tz (i : nat) : (i < N)%nat -> nth i (qcleans n u N) false = true ->
  forall v, tz T (hat T) v i = tz T (lin (t_sl T)) v i.
Proof.
  induction i as [i IH] using lt_wf_ind; intros Hi Hcl v.
  rewrite qcleans_nth, qcleans_at in Hcl by exact Hi.
  apply andb_prop in Hcl as [Hu Hr]; rewrite forallb_forall in Hr.
  assert (HiN : (i < t_N T)%nat) by (cbn [t_N tnet_of]; rewrite to_network_size; exact Hi).
  rewrite !tz_eq by exact HiN; unfold lin; rewrite hat_same_linear by exact (qunk_correct i Hi Hu).
  f_equal; apply ty_reads_clean; intros j Hj.
  specialize (Hr j (proj2 (in_seq i 0 j) (conj (Nat.le_0_l j) Hj))).
  apply Bool.orb_prop in Hr as [Hz|Hc]; [left; exact (qB_zero i j Hi Hz)|right].
  apply IH; [exact Hj | lia|].
  rewrite qcleans_nth by lia; rewrite qcleans_nth in Hc by exact Hj; exact Hc.
Qed.

Theorem qindependent_correct : qindependent n u = true -> kinks_independent T.
Proof.
  intros H c v Hc Hk; unfold qindependent in H; rewrite forallb_forall in H.
  cbn [t_N tnet_of] in Hc; rewrite to_network_size in Hc.
  specialize (H c (proj2 (in_seq N 0 c) (conj (Nat.le_0_l c) Hc))).
  apply Bool.orb_prop in H as [Hu|Hr]; [exfalso; exact (Hk (qunk_correct c Hc Hu))|].
  unfold qreads_clean in Hr; rewrite forallb_forall in Hr.
  apply ty_reads_clean; intros j Hj.
  specialize (Hr j (proj2 (in_seq c 0 j) (conj (Nat.le_0_l j) Hj))).
  apply Bool.orb_prop in Hr as [Hz|Hcl]; [left; exact (qB_zero c j Hc Hz)|right].
  apply clean_tz; [lia | exact Hcl].
Qed.

End Correct.

(** * The test *)

Theorem qindep_test_correct (n : qnet) (cls bias : nat -> nat) (u : list Q) (b : bool) :
  qwf n = true -> tied_bias (to_network n) cls bias -> qindep_test n cls u = Some b ->
  (differentiable (q_params n) (net_eval (to_network n)) (qpoint u) <-> b = true).
Proof.
  intros Hq Ht; pose proof (qwf_correct n Hq) as Hwf; unfold qindep_test.
  destruct (qindependent n u) eqn:HI; [|discriminate]; intros E; injection E as <-.
  change (q_params n) with (n_params (to_network n)).
  rewrite (tied_independent_iff (to_network n) cls bias (qpoint u) Hwf Ht (qindependent_correct n u HI)).
  rewrite forallb_forall, <- qkink_neurons_correct; split.
  - intros H m Hm; apply qgroups_correct, H.
  - intros H m.
    destruct (in_dec Nat.eq_dec m (map cls (kink_neurons (to_network n) (qpoint u)))) as [Hin|Hnin];
      [apply qgroups_correct, H, Hin|].
    apply (forms_groups_unkinked cls (tnet_of (to_network n) (qpoint u)) m).
    intros c Hc Hcm; apply (unkinked_slopes (to_network n) (qpoint u) c Hc).
    intros Hk; apply Hnin; rewrite <- Hcm; apply in_map, Hk.
Qed.
