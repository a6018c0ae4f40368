(* Batched MLPs (THEORY.md section 8.1, "A batched bias network is a bias
   network's copies over B inputs"; issue 18, item 2): a dense MLP with a
   bias on every layer (MLP.v), copied over any batch of inputs, is a
   batched bias network.  The MLP's own input x0 only fixes the number of
   inputs; the batch replaces it by x_0 .. x_(B-1). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network MLP C1Output Batch.
Import ListNotations.
Open Scope R_scope.

(* the neurons of an MLP are well formed (the output needs a neuron) *)
Lemma mlp_wf_neurons (x0 : list R) (ls : list layer) :
  (0 < n_size (mlp x0 ls))%nat -> wf_neurons (mlp x0 ls).
Proof. intros HN; apply wf_wf_neurons, mlp_wf, HN. Qed.

(* every layer biased: each base neuron's bias is an exclusive coefficient-1
   parameter for every input of the batch *)
Theorem mlp_batch_bias (x0 : list R) (ls : list layer) (B : nat) (xs : nat -> nat -> R) :
  all_biased ls -> batch_bias (mlp x0 ls) B xs.
Proof.
  intros Hb k Hk; unfold n_size in Hk; simpl in Hk.
  destruct (mlp_neurons_bias ls EInput (length x0) 0 0 k input_no_params Hb Hk)
    as [p [r [Hp [Htau [Hr Hexcl]]]]].
  exists p; intros i Hi; exists r; unfold exclusive_param_with, tau, n_size, base_at; simpl.
  split; [lia|]. split; [exact Hk|]. split; [exact Hexcl|].
  split; [tauto|]. split; [tauto|]. split; [exact Hr|].
  intros w z; fold dflt; rewrite Htau; simpl; ring.
Qed.
