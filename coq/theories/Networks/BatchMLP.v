(* Batched MLPs (THEORY.md section 8.1, "A batched bias network is a bias
   network's copies over B inputs"; issue 18, item 2): a dense MLP with a
   bias on every layer (MLP.v), copied over any batch of inputs, is a
   batched bias network, and each of its neurons is dense (Dense.v: linear
   in its own weights and bias, which no other neuron uses), so
   T6DenseCorrect.v applies to it for every choice.  The MLP's own input x0
   only fixes the number of inputs; the batch replaces it by x_0 .. x_(B-1). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network MLP C1Output Batch Dense.
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

(** * MLP neurons are dense *)

Lemma lin_params_sum_expr (l : list expr) : (forall e, In e l -> lin_params e) -> lin_params (sum_expr l).
Proof.
  induction l as [|e l IH]; intros H; simpl; [reflexivity|].
  split; [apply H; left; reflexivity | apply IH; intros e' He'; apply H; right; exact He'].
Qed.

Lemma lin_params_unit_expr (prev : nat -> expr) (nprev P n i : nat) :
  no_params prev -> lin_params (unit_expr prev nprev P n true i).
Proof.
  intros Hprev; unfold unit_expr; simpl; split; [|exact I].
  apply lin_params_sum_expr; intros e He; apply in_map_iff in He as [j [<- _]].
  simpl; left; split; [exact I | intros p; apply Hprev].
Qed.

Lemma row_major_inj (i j i' j' m : nat) : (j < m)%nat -> (j' < m)%nat -> (i * m + j = i' * m + j')%nat -> i = i'.
Proof.
  intros Hj Hj' H; destruct (Nat.lt_trichotomy i i') as [Hlt|[Heq|Hlt]]; [exfalso|exact Heq|exfalso]; nia.
Qed.

Lemma mlp_neurons_dense (ls : list layer) : forall prev nprev P K k,
  no_params prev -> all_biased ls -> (k < length (mlp_neurons prev nprev P K ls))%nat ->
  lin_params (fst (nth k (mlp_neurons prev nprev P K ls) dflt)) /\
  forall q, occurs_param q (fst (nth k (mlp_neurons prev nprev P K ls) dflt)) ->
    forall k', (k' < length (mlp_neurons prev nprev P K ls))%nat -> k' <> k ->
      ~ occurs_param q (fst (nth k' (mlp_neurons prev nprev P K ls) dflt)).
Proof.
  induction ls as [|[[n act0] hb] ls IH]; intros prev nprev P K k Hprev Hb Hk;
    simpl in Hk; [lia|].
  assert (hb = true) as -> by (apply (Hb (n, act0, hb)); now left).
  assert (Hb' : all_biased ls) by (intros l Hl; apply Hb; now right).
  simpl mlp_neurons; unfold layer_nparams in *.
  rewrite app_length, map_length, seq_length in Hk.
  set (L' := mlp_neurons (fun j => ENeuron (K + j)) n (P + (n * nprev + n)) (K + n) ls) in *.
  assert (Hparams' : forall k', (k' < length L')%nat -> forall q,
            occurs_param q (fst (nth k' L' dflt)) -> (P + (n * nprev + n) <= q)%nat).
  { intros k' Hk' q Hq.
    assert (Hin : In (nth k' L' dflt) L') by (apply nth_In; exact Hk').
    destruct (nth k' L' dflt) as [e act] eqn:He; simpl in Hq.
    generalize (mlp_neurons_params ls _ _ _ _ e act q (neurons_prev_no_params K) Hin Hq).
    unfold layer_nparams; lia. }
  assert (Hnth1 : forall k', (k' < n)%nat ->
            fst (nth k' (map (fun i => (unit_expr prev nprev P n true i, act0)) (seq 0 n) ++ L') dflt)
            = unit_expr prev nprev P n true k').
  { intros k' Hk'; rewrite app_nth1 by (rewrite map_length, seq_length; exact Hk').
    rewrite nth_map_seq by exact Hk'; reflexivity. }
  assert (Hnth2 : forall k', (n <= k')%nat ->
            nth k' (map (fun i => (unit_expr prev nprev P n true i, act0)) (seq 0 n) ++ L') dflt
            = nth (k' - n) L' dflt).
  { intros k' Hk'; rewrite app_nth2 by (rewrite map_length, seq_length; exact Hk').
    rewrite map_length, seq_length; reflexivity. }
  (* the parameters of a unit of this layer lie below P + n nprev + n *)
  assert (Hthis : forall k' q, (k' < n)%nat -> occurs_param q (unit_expr prev nprev P n true k') ->
            (q < P + (n * nprev + n))%nat).
  { intros k' q Hk' Hq; destruct (occurs_unit_expr prev nprev P n k' q true Hprev Hq) as [[j [Hj ->]]|[_ ->]];
      [generalize (row_major_lt k' j n nprev Hk' Hj); lia | lia]. }
  rewrite app_length, map_length, seq_length.
  destruct (Nat.lt_ge_cases k n) as [Hkn|Hkn].
  - rewrite Hnth1 by exact Hkn; split; [apply lin_params_unit_expr, Hprev|].
    intros q Hq k' Hk' Hne Hq'; destruct (Nat.lt_ge_cases k' n) as [Hk'n|Hk'n].
    + rewrite Hnth1 in Hq' by exact Hk'n.
      destruct (occurs_unit_expr prev nprev P n k q true Hprev Hq) as [[j [Hj Heq]]|[_ Heq]];
        destruct (occurs_unit_expr prev nprev P n k' q true Hprev Hq') as [[j' [Hj' Heq']]|[_ Heq']].
      * apply Hne; symmetry; apply (row_major_inj k j k' j' nprev Hj Hj'); lia.
      * generalize (row_major_lt k j n nprev Hkn Hj); lia.
      * generalize (row_major_lt k' j' n nprev Hk'n Hj'); lia.
      * lia.
    + rewrite Hnth2 in Hq' by exact Hk'n; apply Hparams' in Hq'; [|lia].
      specialize (Hthis k q Hkn Hq); lia.
  - rewrite Hnth2 by exact Hkn.
    destruct (IH (fun j => ENeuron (K + j)) n (P + (n * nprev + n))%nat (K + n)%nat (k - n)%nat
                 (neurons_prev_no_params K) Hb' ltac:(fold L'; lia)) as [Hl Hex].
    fold L' in Hl, Hex; split; [exact Hl|].
    intros q Hq k' Hk' Hne Hq'; destruct (Nat.lt_ge_cases k' n) as [Hk'n|Hk'n].
    + rewrite Hnth1 in Hq' by exact Hk'n; specialize (Hthis k' q Hk'n Hq').
      apply Hparams' in Hq; [lia | lia].
    + rewrite Hnth2 in Hq' by exact Hk'n.
      apply (Hex q Hq (k' - n)%nat); [lia | lia | exact Hq'].
Qed.

(* every neuron of an MLP with a bias on every layer is dense *)
Theorem mlp_kinked_dense (x0 : list R) (ls : list layer) :
  all_biased ls -> kinked_dense (mlp x0 ls).
Proof.
  intros Hb k Hk _; unfold n_size in Hk; simpl in Hk.
  destruct (mlp_neurons_dense ls EInput (length x0) 0 0 k input_no_params Hb Hk) as [Hl Hex].
  split; [exact Hl|]; intros q Hq j Hj Hne; unfold n_size in Hj; simpl in Hj.
  exact (Hex q Hq j Hj Hne).
Qed.
