(* Batched networks with equal inputs (THEORY.md section 8.1, the exact N&S
   test and the counts; issue 18, item 5).  When every example of the batch
   is the same input x_0, the copies (k, i) of a base neuron all compute
   y_k(w; x_0), so a polynomial loss o of the copies' outputs is the
   polynomial [collapse N o] of the base neurons' outputs (copy c read as
   base neuron c mod N), and the batched network is the base network with
   that output ([collapsed_net]): the same function of w, hence the same
   ndf_M.  For a batched bias network whose loss has no parameter, the
   collapsed network is a bias network, so T3 decides differentiability
   exactly: L is not differentiable at w iff NS(w) holds in the collapsed
   network, i.e. some kinked base neuron has a non-zero adjoint summed over
   its copies (the copies of a base neuron form one group of equal tangent
   forms, T6_differentiable_iff_groups).  QDecide.v's classifier then counts
   it (computable_NS_iff), for instance examples/theory-8.1.json with its
   batch (x = 1, 1) and MSE. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Counting C1Output Batch QDecide.
From ADCorrect Require T3.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* copy c read as base neuron c mod N; inputs (the batched network has none) as 0 *)
Fixpoint collapse (N : nat) (e : expr) : expr :=
  match e with
  | EConst r => EConst r
  | EParam p => EParam p
  | EInput _ => EConst 0
  | ENeuron c => ENeuron (c mod N)
  | EAdd e1 e2 => EAdd (collapse N e1) (collapse N e2)
  | EMul e1 e2 => EMul (collapse N e1) (collapse N e2)
  end.

(* the base network on input x with the collapsed loss *)
Definition collapsed_net (net : network) (x : nat -> R) (o : expr) : network :=
  with_out (base_at net x) (collapse (n_size net) o).

(** * The batched network is the collapsed one *)

Section Equal.
Variables (net : network) (B : nat) (xs : nat -> nat -> R) (o : expr).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Hypothesis Heq : forall i, (i < B)%nat -> xs i = xs 0%nat.

Lemma eval_collapse (w : vec) (e : expr) : neurons_below (B * N) e ->
  eval (fun _ => 0) w (zvec bnet w) e = eval (xs 0%nat) w (zvec (base_at net (xs 0%nat)) w) (collapse N e).
Proof.
  induction e as [r|p|i|c|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; intros Hb; simpl; try reflexivity.
  - assert (Hc : (c < B * N)%nat) by (apply Hb; simpl; reflexivity).
    assert (HN : N <> 0%nat) by (intros E; rewrite E in Hc; lia).
    destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
    rewrite copy_mod by exact Hk.
    unfold zvec; rewrite zvals_lt by (unfold bnet; rewrite batch_size; exact Hc).
    rewrite zvals_lt by (unfold n_size; simpl; exact Hk).
    unfold bnet, N; rewrite batch_post by assumption; rewrite Heq by exact Hi; reflexivity.
  - rewrite IH1, IH2 by (intros j Hj; apply Hb; simpl; tauto); reflexivity.
  - rewrite IH1, IH2 by (intros j Hj; apply Hb; simpl; tauto); reflexivity.
Qed.

Hypothesis Ho : neurons_below (B * N) o.

Theorem batch_equal_inputs_eval (w : vec) :
  net_eval (with_out bnet o) w = net_eval (collapsed_net net (xs 0%nat) o) w.
Proof.
  rewrite !net_eval_with_out; unfold collapsed_net; rewrite net_eval_with_out.
  apply eval_collapse, Ho.
Qed.

Theorem batch_equal_inputs_ndf_count (M : list R) :
  ndf_count (with_out bnet o) M = ndf_count (collapsed_net net (xs 0%nat) o) M.
Proof.
  unfold ndf_count; apply count_ext; intros u _; cbn [n_params with_out collapsed_net base_at].
  unfold bnet; rewrite batch_params.
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply batch_equal_inputs_eval.
Qed.

(** * With batch biases and a parameter-free loss, T3 is the exact test *)

Lemma collapse_no_param (p : nat) (e : expr) : ~ occurs_param p e -> ~ occurs_param p (collapse N e).
Proof. induction e; simpl; tauto. Qed.

Lemma collapse_params (p : nat) (e : expr) : occurs_param p (collapse N e) -> occurs_param p e.
Proof. induction e; simpl; tauto. Qed.

Lemma collapse_neurons (e : expr) : (0 < N)%nat -> neurons_below N (collapse N e).
Proof.
  intros HN j; induction e; simpl; try tauto; intros <-; apply Nat.mod_upper_bound; lia.
Qed.

Hypothesis HB : (1 <= B)%nat.
Hypothesis Hbias : batch_bias net B xs.
Hypothesis Hop : forall p, ~ occurs_param p o.

Lemma collapsed_wf : (0 < N)%nat -> wf (collapsed_net net (xs 0%nat) o).
Proof.
  intros HN; apply wf_with_out; [exact Hwf | apply collapse_neurons, HN |].
  intros p Hp; apply collapse_params in Hp; exfalso; exact (Hop p Hp).
Qed.

Lemma collapsed_bias : bias_network (collapsed_net net (xs 0%nat) o).
Proof.
  intros k Hk; destruct (Hbias k Hk) as [p Hp]; destruct (Hp 0%nat ltac:(lia)) as [r He].
  exists p, r; unfold collapsed_net.
  change (base_at net (xs 0%nat)) with (with_out (base_at net (xs 0%nat)) (EConst 0)) in He.
  apply (exclusive_with_out _ (EConst 0)); [apply collapse_no_param, Hop | exact He].
Qed.

(* the exact test: the batched network is not differentiable at w iff NS(w)
   in the collapsed network, for every choice D *)
Theorem batch_equal_inputs_ndf_iff_NS (D : nat -> R) (w : vec) :
  (0 < N)%nat ->
  (~ differentiable (n_params net) (net_eval (with_out bnet o)) w <->
   NS (collapsed_net net (xs 0%nat) o) D w).
Proof.
  intros HN; rewrite <- (T3.T3 _ D w (collapsed_wf HN) collapsed_bias).
  cbn [n_params collapsed_net with_out base_at].
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply batch_equal_inputs_eval.
Qed.

End Equal.

(** * Over Q *)

From Coq Require Import QArith Qreals.
From ADCorrect Require Import QAct QNet QAD.

Fixpoint qcollapse (N : nat) (e : qexpr) : qexpr :=
  match e with
  | QConst r => QConst r
  | QParam p => QParam p
  | QInput _ => QConst 0
  | QNeuron c => QNeuron (c mod N)
  | QAdd e1 e2 => QAdd (qcollapse N e1) (qcollapse N e2)
  | QMul e1 e2 => QMul (qcollapse N e1) (qcollapse N e2)
  end.

(* the base network over Q with the collapsed loss oq *)
Definition qcollapsed (bq : qnet) (oq : qexpr) : qnet :=
  mk_qnet (q_params bq) (q_input bq) (q_neurons bq) (qcollapse (qsize bq) oq).

(* the batched network over Q: B copies of bq on its own input, loss oq *)
Definition qbatched (bq : qnet) (B : nat) (oq : qexpr) : network :=
  with_out (batch_neurons (to_network bq) B (fun _ => n_input (to_network bq))) (to_expr oq).

Lemma to_expr_qcollapse (N : nat) (e : qexpr) : to_expr (qcollapse N e) = collapse N (to_expr e).
Proof.
  induction e; simpl; try reflexivity.
  - rewrite Q2R_0; reflexivity.
  - rewrite IHe1, IHe2; reflexivity.
  - rewrite IHe1, IHe2; reflexivity.
Qed.

Lemma qcollapsed_network (bq : qnet) (oq : qexpr) :
  collapsed_net (to_network bq) (n_input (to_network bq)) (to_expr oq) = to_network (qcollapsed bq oq).
Proof.
  unfold collapsed_net, qcollapsed, to_network, with_out, base_at; simpl.
  rewrite to_expr_qcollapse; f_equal; f_equal; unfold n_size, qsize; simpl; apply map_length.
Qed.

(* the computable exact test for batched bias networks over Q with equal
   inputs: differentiable at the rational point u iff qNS of the collapsed
   network is false (any rational choice dq) *)
Theorem computable_batch_equal_inputs_iff (bq : qnet) (B : nat) (oq : qexpr) (dq u : list Q) :
  wf_neurons (to_network bq) -> (1 <= B)%nat ->
  batch_bias (to_network bq) B (fun _ => n_input (to_network bq)) ->
  (forall p, ~ occurs_param p (to_expr oq)) -> neurons_below (B * qsize bq) (to_expr oq) ->
  (0 < qsize bq)%nat ->
  (differentiable (q_params bq) (net_eval (qbatched bq B oq)) (qpoint u) <->
   qNS (qcollapsed bq oq) dq u = false).
Proof.
  intros Hwf HB Hb Hop Ho HN.
  rewrite <- (to_network_size bq) in Ho, HN.
  generalize (batch_equal_inputs_ndf_iff_NS (to_network bq) B (fun _ => n_input (to_network bq))
                (to_expr oq) Hwf (fun _ _ => eq_refl) Ho HB Hb Hop (qD dq) (qpoint u) HN).
  rewrite qcollapsed_network, qNS_correct; unfold qbatched; simpl n_params; intros H.
  destruct (qNS (qcollapsed bq oq) dq u); split; intros Hd; try reflexivity.
  - exfalso; apply (proj2 H eq_refl Hd).
  - discriminate.
  - apply Classical_Prop.NNPP; intros Hnd; apply H in Hnd; discriminate.
Qed.
