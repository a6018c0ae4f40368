(* Computable networks over Q (THEORY.md section 3; issue 10, item 9).
   Expressions with rational constants, networks whose activations are the
   tags of QAct.v, their reading as networks of Network.v ([to_network]),
   and the forward pass over Q: the outputs z_k and pre-activations y_k, and
   the values of the symbolic partial derivatives d tau / d z_j and
   d tau / d w_p.  Each is proved equal to its real counterpart of
   Network.v at rational parameter vectors (points [word_vec (map Q2R u)]). *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network Counting QAct.
Import ListNotations.

(** * Definitions *)

Inductive qexpr : Type :=
  | QConst (q : Q)
  | QParam (p : nat)
  | QInput (i : nat)
  | QNeuron (j : nat)
  | QAdd (e1 e2 : qexpr)
  | QMul (e1 e2 : qexpr).

Fixpoint to_expr (e : qexpr) : expr :=
  match e with
  | QConst q => EConst (Q2R q)
  | QParam p => EParam p
  | QInput i => EInput i
  | QNeuron j => ENeuron j
  | QAdd e1 e2 => EAdd (to_expr e1) (to_expr e2)
  | QMul e1 e2 => EMul (to_expr e1) (to_expr e2)
  end.

Record qnet := mk_qnet {
  q_params : nat;                     (* W *)
  q_input : list Q;                   (* the fixed input x *)
  q_neurons : list (qexpr * qact);    (* (tau_k, sigma_k), topological order *)
  q_out : qexpr                       (* g *)
}.

Definition to_network (n : qnet) : network := {|
  n_params := q_params n;
  n_input := fun i => Q2R (nth i (q_input n) 0%Q);
  n_neurons := map (fun ea => (to_expr (fst ea), act_of (snd ea))) (q_neurons n);
  n_out := to_expr (q_out n) |}.

(* a rational parameter vector, as a point of R^W *)
Definition qpoint (u : list Q) : vec := word_vec (map Q2R u).

Open Scope Q_scope.

Definition qsize (n : qnet) : nat := length (q_neurons n).
Definition qtau (n : qnet) (k : nat) : qexpr := fst (nth k (q_neurons n) (QConst 0, QIdentity)).
Definition qsig (n : qnet) (k : nat) : qact := snd (nth k (q_neurons n) (QConst 0, QIdentity)).

Definition qsum (l : list Q) : Q := fold_right Qplus 0 l.

Section QEval.
Variables (x w z : list Q).

Fixpoint qeval (e : qexpr) : Q :=
  match e with
  | QConst q => q
  | QParam p => nth p w 0
  | QInput i => nth i x 0
  | QNeuron j => nth j z 0
  | QAdd e1 e2 => qeval e1 + qeval e2
  | QMul e1 e2 => qeval e1 * qeval e2
  end.

(* the value of d e / d z_j *)
Fixpoint qdneuron (j : nat) (e : qexpr) : Q :=
  match e with
  | QNeuron i => if Nat.eqb i j then 1 else 0
  | QAdd e1 e2 => qdneuron j e1 + qdneuron j e2
  | QMul e1 e2 => qdneuron j e1 * qeval e2 + qeval e1 * qdneuron j e2
  | _ => 0
  end.

(* the value of d e / d w_p *)
Fixpoint qdparam (p : nat) (e : qexpr) : Q :=
  match e with
  | QParam q => if Nat.eqb q p then 1 else 0
  | QAdd e1 e2 => qdparam p e1 + qdparam p e2
  | QMul e1 e2 => qdparam p e1 * qeval e2 + qeval e1 * qdparam p e2
  | _ => 0
  end.

End QEval.

(* outputs z_0 .. z_(m-1) *)
Fixpoint qzs (n : qnet) (w : list Q) (m : nat) : list Q :=
  match m with
  | O => []
  | S m' => let zs := qzs n w m' in
      zs ++ [qact_eval (qsig n m') (qeval (q_input n) w zs (qtau n m'))]
  end.

Definition qzvec (n : qnet) (w : list Q) : list Q := qzs n w (qsize n).

(* y_k, read from the full list of outputs zs = qzvec n w *)
Definition qpreact (n : qnet) (w zs : list Q) (k : nat) : Q :=
  qeval (q_input n) w (firstn k zs) (qtau n k).

Definition qnet_eval (n : qnet) (w : list Q) : Q := qeval (q_input n) w (qzvec n w) (q_out n).

Close Scope Q_scope.
Open Scope R_scope.

(** * The reading as a network of Network.v *)

Lemma to_network_size (n : qnet) : n_size (to_network n) = qsize n.
Proof. unfold n_size, qsize; simpl; apply map_length. Qed.

Lemma to_network_nth (n : qnet) (k : nat) : (k < qsize n)%nat ->
  nth k (n_neurons (to_network n)) (EConst 0, act_id) =
  (to_expr (qtau n k), act_of (qsig n k)).
Proof.
  intros Hk; unfold to_network, qtau, qsig; cbn [n_neurons].
  rewrite (nth_indep _ _ ((fun ea => (to_expr (fst ea), act_of (snd ea))) (QConst 0, QIdentity)))
    by (rewrite map_length; exact Hk).
  exact (map_nth (fun ea => (to_expr (fst ea), act_of (snd ea))) _ _ _).
Qed.

Lemma to_network_tau (n : qnet) (k : nat) : (k < qsize n)%nat ->
  tau (to_network n) k = to_expr (qtau n k).
Proof. intros Hk; unfold tau; rewrite to_network_nth by exact Hk; reflexivity. Qed.

Lemma to_network_sigma (n : qnet) (k : nat) : (k < qsize n)%nat ->
  sigma (to_network n) k = act_of (qsig n k).
Proof. intros Hk; unfold sigma; rewrite to_network_nth by exact Hk; reflexivity. Qed.

Lemma qpoint_nth (u : list Q) (p : nat) : qpoint u p = Q2R (nth p u 0%Q).
Proof. unfold qpoint, word_vec; apply nth_map_Q2R. Qed.

Lemma Q2R_qsum (l : list Q) : Q2R (qsum l) = fold_right Rplus 0 (map Q2R l).
Proof.
  induction l as [|a l IH]; simpl; [apply Q2R_0|].
  rewrite Q2R_plus, IH; reflexivity.
Qed.

Lemma nth_firstn_lt {A : Type} (l : list A) (j k : nat) (d : A) :
  (j < k)%nat -> nth j (firstn k l) d = nth j l d.
Proof.
  revert j k; induction l as [|a l IH]; intros j k Hjk; [destruct k; reflexivity|].
  destruct k as [|k]; [lia|]; destruct j as [|j]; [reflexivity|].
  simpl; apply IH; lia.
Qed.

(** * Expressions *)

Section Expr.
Variables (x w z : list Q) (X : nat -> R) (Wv : vec) (Z : nat -> R).
Hypothesis HX : forall i, X i = Q2R (nth i x 0%Q).
Hypothesis HW : forall p, Wv p = Q2R (nth p w 0%Q).
Hypothesis HZ : forall j, Z j = Q2R (nth j z 0%Q).

Theorem qeval_correct (e : qexpr) : eval X Wv Z (to_expr e) = Q2R (qeval x w z e).
Proof.
  induction e; simpl; auto; rewrite ?Q2R_plus, ?Q2R_mult, IHe1, IHe2; reflexivity.
Qed.

Theorem qdneuron_correct (j : nat) (e : qexpr) :
  eval X Wv Z (dneuron j (to_expr e)) = Q2R (qdneuron x w z j e).
Proof.
  induction e; simpl; rewrite ?Q2R_0; try reflexivity.
  - destruct (Nat.eq_dec j0 j) as [->|Hne]; rewrite ?Nat.eqb_refl, ?Q2R_1; [reflexivity|].
    apply Nat.eqb_neq in Hne; rewrite Hne, Q2R_0; reflexivity.
  - rewrite Q2R_plus, IHe1, IHe2; reflexivity.
  - rewrite Q2R_plus, !Q2R_mult, IHe1, IHe2, !qeval_correct; reflexivity.
Qed.

Theorem qdparam_correct (p : nat) (e : qexpr) :
  eval X Wv Z (dparam p (to_expr e)) = Q2R (qdparam x w z p e).
Proof.
  induction e; simpl; rewrite ?Q2R_0; try reflexivity.
  - destruct (Nat.eq_dec p0 p) as [->|Hne]; rewrite ?Nat.eqb_refl, ?Q2R_1; [reflexivity|].
    apply Nat.eqb_neq in Hne; rewrite Hne, Q2R_0; reflexivity.
  - rewrite Q2R_plus, IHe1, IHe2; reflexivity.
  - rewrite Q2R_plus, !Q2R_mult, IHe1, IHe2, !qeval_correct; reflexivity.
Qed.

End Expr.

(** * The forward pass *)

Section Forward.
Variables (n : qnet) (u : list Q).

Local Notation net := (to_network n).
Local Notation wv := (qpoint u).

Lemma input_correct (i : nat) : n_input net i = Q2R (nth i (q_input n) 0%Q).
Proof. reflexivity. Qed.

Lemma qzs_length (m : nat) : length (qzs n u m) = m.
Proof. induction m as [|m IH]; simpl; [reflexivity|]; rewrite app_length, IH; simpl; lia. Qed.

Lemma nth_qzs_ge (m j : nat) : (m <= j)%nat -> nth j (qzs n u m) 0%Q = 0%Q.
Proof. intros H; apply nth_overflow; rewrite qzs_length; exact H. Qed.

Lemma zvals_correct (m : nat) : (m <= qsize n)%nat ->
  forall j, zvals net wv m j = Q2R (nth j (qzs n u m) 0%Q).
Proof.
  induction m as [|m IH]; intros Hm j.
  - simpl; destruct j; symmetry; apply Q2R_0.
  - simpl zvals; simpl qzs.
    destruct (Nat.eq_dec j m) as [->|Hne].
    + rewrite app_nth2 by (rewrite qzs_length; lia); rewrite qzs_length, Nat.sub_diag; simpl.
      rewrite to_network_sigma by lia; rewrite to_network_tau by lia.
      rewrite (qeval_correct (q_input n) u (qzs n u m)) by
        (exact input_correct || exact (qpoint_nth u) || (intros; apply IH; lia)).
      apply qact_eval_correct.
    + rewrite IH by lia.
      destruct (Nat.lt_ge_cases j m) as [Hj|Hj].
      * rewrite app_nth1 by (rewrite qzs_length; exact Hj); reflexivity.
      * rewrite app_nth2 by (rewrite qzs_length; exact Hj); rewrite qzs_length.
        rewrite nth_qzs_ge by exact Hj.
        destruct (j - m)%nat as [|[|d]] eqn:E; [lia| |]; reflexivity.
Qed.

Lemma zvec_correct (j : nat) : zvec net wv j = Q2R (nth j (qzvec n u) 0%Q).
Proof.
  unfold zvec, qzvec; rewrite zvals_correct by (rewrite to_network_size; lia).
  rewrite to_network_size; reflexivity.
Qed.

(* the outputs below k, read from the full list *)
Lemma zvals_firstn (k : nat) : (k <= qsize n)%nat ->
  forall j, zvals net wv k j = Q2R (nth j (firstn k (qzvec n u)) 0%Q).
Proof.
  intros Hk j; destruct (Nat.lt_ge_cases j k) as [Hj|Hj].
  - rewrite zvals_lt by exact Hj.
    rewrite <- (zvals_lt net wv (n_size net) j) by (rewrite to_network_size; lia).
    fold (zvec net wv); rewrite zvec_correct, nth_firstn_lt by exact Hj; reflexivity.
  - rewrite zvals_ge by exact Hj; rewrite nth_overflow; [symmetry; apply Q2R_0|].
    rewrite firstn_length; lia.
Qed.

Theorem qpreact_correct (k : nat) : (k < qsize n)%nat ->
  preact net wv k = Q2R (qpreact n u (qzvec n u) k).
Proof.
  intros Hk; unfold preact, qpreact; rewrite to_network_tau by exact Hk.
  apply qeval_correct; [exact input_correct | exact (qpoint_nth u) |].
  intros j; apply zvals_firstn; lia.
Qed.

Theorem qnet_eval_correct : net_eval net wv = Q2R (qnet_eval n u).
Proof.
  unfold net_eval, qnet_eval; apply qeval_correct;
    [exact input_correct | exact (qpoint_nth u) | exact zvec_correct].
Qed.

(* d tau_k / d z_i and d g / d z_i, d tau_k / d w_p and d g / d w_p at u *)
Lemma dneuron_correct (j : nat) (e : qexpr) :
  eval (n_input net) wv (zvec net wv) (dneuron j (to_expr e)) =
  Q2R (qdneuron (q_input n) u (qzvec n u) j e).
Proof. apply qdneuron_correct; [exact input_correct | exact (qpoint_nth u) | exact zvec_correct]. Qed.

Lemma dparam_correct (p : nat) (e : qexpr) :
  eval (n_input net) wv (zvec net wv) (dparam p (to_expr e)) =
  Q2R (qdparam (q_input n) u (qzvec n u) p e).
Proof. apply qdparam_correct; [exact input_correct | exact (qpoint_nth u) | exact zvec_correct]. Qed.

End Forward.
