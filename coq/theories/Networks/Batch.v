(* Mini-batch networks (THEORY.md section 8.1; issue 10, item 8).  A base
   network's neurons are copied once per example of a batch x_0 .. x_(B-1);
   the copies share the parameters.  Copy (k, i) of neuron k for example i is
   neuron i * N + k of the batched network (examples one after the other, so
   the order stays topological); its pre-activation is tau_k with the input
   x_i and the neuron outputs of example i.  The loss is any C1 function of
   the parameters and all copies' outputs (C1Output.v), e.g. the sum over the
   examples of MSE or cross-entropy of the copies' outputs.
   A batched bias network: every base neuron k has one bias parameter p_k that
   is an exclusive coefficient-1 parameter of k for every input of the batch;
   p_k then enters every copy of k with coefficient 1 and no other copy, so it
   is not exclusive in the batched network (which is not a bias network). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network C1Output.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* tau for one example: the input read as constants x_i, neuron j read as
   neuron off + j *)
Fixpoint inst (off : nat) (x : nat -> R) (e : expr) : expr :=
  match e with
  | EConst r => EConst r
  | EParam p => EParam p
  | EInput i => EConst (x i)
  | ENeuron j => ENeuron (off + j)
  | EAdd e1 e2 => EAdd (inst off x e1) (inst off x e2)
  | EMul e1 e2 => EMul (inst off x e1) (inst off x e2)
  end.

(* the neurons of net with input x and no output *)
Definition base_at (net : network) (x : nat -> R) : network :=
  mk_net (n_params net) x (n_neurons net) (EConst 0).

Section Batch.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Let N := n_size net.

(* neuron c is copy (c mod N) for example c / N *)
Definition copy_neuron (c : nat) : expr * activation :=
  (inst (c / N * N) (xs (c / N)) (tau net (c mod N)), sigma net (c mod N)).

Definition batch_neurons : network :=
  mk_net (n_params net) (fun _ => 0) (map copy_neuron (seq 0 (B * N))) (EConst 0).

(* every base neuron has a bias parameter common to all inputs of the batch *)
Definition batch_bias : Prop :=
  forall k, (k < N)%nat -> exists p, forall i, (i < B)%nat ->
    exists r, exclusive_param_with (base_at net (xs i)) p k (EConst 1) r.

End Batch.

(* the batched network with a C1 loss of the parameters and all copies' outputs *)
Definition batch_net (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) : c1_network :=
  mk_c1_network (batch_neurons net B xs) loss.

(** * Instantiated expressions *)

Lemma eval_inst (x0 x : nat -> R) (w : vec) (z : nat -> R) (off : nat) (e : expr) :
  eval x0 w z (inst off x e) = eval x w (fun j => z (off + j)%nat) e.
Proof. induction e; simpl; try reflexivity; rewrite IHe1, IHe2; reflexivity. Qed.

Lemma occurs_param_inst (p off : nat) (x : nat -> R) (e : expr) :
  occurs_param p (inst off x e) <-> occurs_param p e.
Proof. induction e; simpl; tauto. Qed.

Lemma occurs_neuron_inst (j off : nat) (x : nat -> R) (e : expr) :
  occurs_neuron j (inst off x e) -> exists j', j = (off + j')%nat /\ occurs_neuron j' e.
Proof.
  induction e as [| | |j0| e1 IH1 e2 IH2 | e1 IH1 e2 IH2]; simpl; try tauto.
  - intros <-; exists j0; split; reflexivity.
  - intros [H|H]; [destruct (IH1 H) as [j' [-> Hj]] | destruct (IH2 H) as [j' [-> Hj]]];
      exists j'; tauto.
  - intros [H|H]; [destruct (IH1 H) as [j' [-> Hj]] | destruct (IH2 H) as [j' [-> Hj]]];
      exists j'; tauto.
Qed.

Lemma dparam_inst (p off : nat) (x : nat -> R) (e : expr) :
  dparam p (inst off x e) = inst off x (dparam p e).
Proof. induction e; simpl; try reflexivity; rewrite IHe1, IHe2; reflexivity. Qed.

Lemma dneuron_inst (j off : nat) (x : nat -> R) (e : expr) :
  dneuron (off + j) (inst off x e) = inst off x (dneuron j e).
Proof.
  induction e as [| | |j0| e1 IH1 e2 IH2 | e1 IH1 e2 IH2]; simpl; try reflexivity.
  - destruct (Nat.eq_dec (off + j0) (off + j)), (Nat.eq_dec j0 j); try reflexivity; lia.
  - rewrite IH1, IH2; reflexivity.
  - rewrite IH1, IH2; reflexivity.
Qed.

(** * Indices of the copies *)

Lemma copy_div (N i k : nat) : (k < N)%nat -> ((i * N + k) / N)%nat = i.
Proof. intros Hk; rewrite Nat.div_add_l, Nat.div_small by lia; lia. Qed.

Lemma copy_mod (N i k : nat) : (k < N)%nat -> ((i * N + k) mod N)%nat = k.
Proof. intros Hk; rewrite Nat.add_comm, Nat.mod_add, Nat.mod_small by lia; reflexivity. Qed.

Lemma copy_lt (N B i k : nat) : (i < B)%nat -> (k < N)%nat -> (i * N + k < B * N)%nat.
Proof. intros Hi Hk; nia. Qed.

(* every neuron of the batched network is a copy *)
Lemma copy_decompose (N B c : nat) : (c < B * N)%nat ->
  exists i k, (i < B)%nat /\ (k < N)%nat /\ c = (i * N + k)%nat.
Proof.
  intros Hc; assert (HN : N <> 0%nat) by (intros ->; lia).
  exists (c / N)%nat, (c mod N)%nat; split; [|split].
  - apply Nat.div_lt_upper_bound; lia.
  - apply Nat.mod_upper_bound, HN.
  - rewrite (Nat.div_mod c N HN) at 1; lia.
Qed.

Section Copies.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Let N := n_size net.
Let bnet := batch_neurons net B xs.

Lemma batch_size : n_size bnet = (B * N)%nat.
Proof. unfold bnet, n_size at 1; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma batch_params : n_params bnet = n_params net.
Proof. reflexivity. Qed.

Lemma batch_tau (i k : nat) : (i < B)%nat -> (k < N)%nat ->
  tau bnet (i * N + k) = inst (i * N) (xs i) (tau net k).
Proof.
  intros Hi Hk; unfold tau at 1, bnet, batch_neurons; simpl.
  rewrite nth_map_seq by (apply copy_lt; assumption).
  unfold copy_neuron; fold N; rewrite copy_div, copy_mod by exact Hk; reflexivity.
Qed.

Lemma batch_sigma (i k : nat) : (i < B)%nat -> (k < N)%nat ->
  sigma bnet (i * N + k) = sigma net k.
Proof.
  intros Hi Hk; unfold sigma at 1, bnet, batch_neurons; simpl.
  rewrite nth_map_seq by (apply copy_lt; assumption).
  unfold copy_neuron; fold N; rewrite copy_mod by exact Hk; reflexivity.
Qed.

Lemma batch_wf : wf_neurons net -> wf_neurons bnet.
Proof.
  intros Hwf c Hc; rewrite batch_size in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  rewrite batch_tau by assumption; destruct (Hwf k Hk) as [Hn Hp]; split.
  - intros j Hj; apply occurs_neuron_inst in Hj as [j' [-> Hj']]; specialize (Hn j' Hj'); lia.
  - intros p Hq; apply occurs_param_inst in Hq; exact (Hp p Hq).
Qed.

Hypothesis Hwf : wf_neurons net.

(* copy (k, i) computes neuron k of the base network on input x_i *)
Lemma batch_copy_values (i : nat) : (i < B)%nat -> forall (w : vec) (k : nat), (k < N)%nat ->
  preact bnet w (i * N + k) = preact (base_at net (xs i)) w k /\
  post bnet w (i * N + k) = post (base_at net (xs i)) w k.
Proof.
  intros Hi w k; induction k as [k IH] using lt_wf_ind; intros Hk.
  assert (Hpre : preact bnet w (i * N + k) = preact (base_at net (xs i)) w k).
  { unfold preact at 1; rewrite batch_tau, eval_inst by assumption.
    unfold preact; apply eval_ext_neuron; intros j Hj.
    destruct (Hwf k Hk) as [Hn _]; specialize (Hn j Hj).
    rewrite zvals_lt by lia; rewrite (zvals_lt (base_at net (xs i)) w k j Hn).
    apply (IH j Hn); lia. }
  split; [exact Hpre|].
  unfold post; rewrite Hpre, batch_sigma by assumption; reflexivity.
Qed.

Lemma batch_preact (i k : nat) (w : vec) : (i < B)%nat -> (k < N)%nat ->
  preact bnet w (i * N + k) = preact (base_at net (xs i)) w k.
Proof. intros Hi Hk; exact (proj1 (batch_copy_values i Hi w k Hk)). Qed.

Lemma batch_post (i k : nat) (w : vec) : (i < B)%nat -> (k < N)%nat ->
  post bnet w (i * N + k) = post (base_at net (xs i)) w k.
Proof. intros Hi Hk; exact (proj2 (batch_copy_values i Hi w k Hk)). Qed.

(* the bias p_k of base neuron k enters every copy of k with coefficient 1 *)
Lemma batch_bias_preact (i k p : nat) (r : expr) (w : vec) (t : R) :
  (i < B)%nat -> (k < N)%nat ->
  exclusive_param_with (base_at net (xs i)) p k (EConst 1) r ->
  preact bnet (upd w p t) (i * N + k) = t + (preact bnet w (i * N + k) - w p).
Proof.
  intros Hi Hk He; rewrite !batch_preact by assumption.
  apply (exclusive_param_preact _ p k r w t He).
Qed.

End Copies.

(** * The sum of a function of the base index over all copies *)

Lemma seq_offset (a n : nat) : seq a n = map (fun k => (a + k)%nat) (seq 0 n).
Proof.
  revert a; induction n as [|n IH]; intros a; [reflexivity|]; simpl.
  rewrite Nat.add_0_r, IH, (IH 1%nat), map_map; f_equal.
  apply map_ext; intros; lia.
Qed.

Lemma list_sum_copies (N B : nat) (f : nat -> nat) :
  list_sum (map (fun c => f (c mod N)) (seq 0 (B * N))) = (B * list_sum (map f (seq 0 N)))%nat.
Proof.
  induction B as [|B IH]; [reflexivity|].
  replace (S B * N)%nat with (B * N + N)%nat by lia.
  rewrite seq_app, map_app, list_sum_app, IH; simpl.
  replace (map (fun c => f (c mod N)) (seq (B * N) N)) with (map f (seq 0 N)); [lia|].
  rewrite (seq_offset (B * N)), map_map; apply map_ext_in; intros k Hk; apply in_seq in Hk.
  replace (B * N + k)%nat with (k + B * N)%nat by lia.
  rewrite Nat.mod_add, Nat.mod_small by lia; reflexivity.
Qed.
