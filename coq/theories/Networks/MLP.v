(* Dense MLPs as networks (THEORY.md section 3, "A dense MLP layer is
   y_l = W_l z_(l-1) + b_l" and "Bias network"): a fixed input vector and a
   list of layers (units, activation, has_bias).  Neurons are numbered layer
   by layer; parameters are numbered layer by layer as in the Python tool:
   the layer's weights W_l[i][j] row-major (index i * n_(l-1) + j), then its
   biases.  The last neuron's output is f (g = ENeuron (N - 1)).  Main
   result: an MLP all of whose layers have biases is a bias network. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Definition layer : Type := (nat * activation * bool)%type.

Fixpoint sum_expr (l : list expr) : expr :=
  match l with
  | [] => EConst 0
  | e :: l' => EAdd e (sum_expr l')
  end.

(* sum_j W[i][j] * prev_j, the weights starting at parameter P *)
Definition unit_sum (prev : nat -> expr) (nprev P i : nat) : expr :=
  sum_expr (map (fun j => EMul (EParam (P + i * nprev + j)) (prev j)) (seq 0 nprev)).

(* pre-activation of unit i of a layer of n units *)
Definition unit_expr (prev : nat -> expr) (nprev P n : nat) (hb : bool) (i : nat) : expr :=
  if hb then EAdd (unit_sum prev nprev P i) (EParam (P + n * nprev + i))
  else unit_sum prev nprev P i.

Definition layer_nparams (nprev n : nat) (hb : bool) : nat :=
  n * nprev + (if hb then n else 0).

(* prev: the previous layer's outputs (nprev of them); P: first parameter;
   K: first neuron of this layer *)
Fixpoint mlp_neurons (prev : nat -> expr) (nprev P K : nat) (ls : list layer)
  : list (expr * activation) :=
  match ls with
  | [] => []
  | (n, act, hb) :: ls' =>
      map (fun i => (unit_expr prev nprev P n hb i, act)) (seq 0 n) ++
      mlp_neurons (fun j => ENeuron (K + j)) n (P + layer_nparams nprev n hb) (K + n) ls'
  end.

Fixpoint mlp_nparams (nprev : nat) (ls : list layer) : nat :=
  match ls with
  | [] => 0
  | (n, _, hb) :: ls' => layer_nparams nprev n hb + mlp_nparams n ls'
  end.

Definition mlp (xs : list R) (ls : list layer) : network :=
  {| n_params := mlp_nparams (length xs) ls;
     n_input := fun i => nth i xs 0;
     n_neurons := mlp_neurons EInput (length xs) 0 0 ls;
     n_out := ENeuron (length (mlp_neurons EInput (length xs) 0 0 ls) - 1) |}.

Definition all_biased (ls : list layer) : Prop := forall l, In l ls -> snd l = true.

(** * Parameters of the expressions *)

Definition no_params (prev : nat -> expr) : Prop := forall j p, ~ occurs_param p (prev j).

Lemma row_major_lt (i j n m : nat) : (i < n)%nat -> (j < m)%nat -> (i * m + j < n * m)%nat.
Proof. intros Hi Hj; nia. Qed.

Lemma occurs_sum_expr (p : nat) (l : list expr) :
  occurs_param p (sum_expr l) -> exists e, In e l /\ occurs_param p e.
Proof.
  induction l as [|e l IH]; simpl; [tauto|]; intros [H|H].
  - exists e; auto.
  - destruct (IH H) as [e' [He' Hp]]; exists e'; auto.
Qed.

Lemma occurs_unit_sum (prev : nat -> expr) (nprev P i p : nat) :
  no_params prev -> occurs_param p (unit_sum prev nprev P i) ->
  exists j, (j < nprev)%nat /\ p = (P + i * nprev + j)%nat.
Proof.
  intros Hprev H; apply occurs_sum_expr in H as [e [He Hp]].
  apply in_map_iff in He as [j [<- Hj]]; apply in_seq in Hj.
  simpl in Hp; destruct Hp as [Hp|Hp]; [|exfalso; exact (Hprev j p Hp)].
  exists j; split; [lia | auto].
Qed.

Lemma occurs_unit_expr (prev : nat -> expr) (nprev P n i p : nat) (hb : bool) :
  no_params prev -> occurs_param p (unit_expr prev nprev P n hb i) ->
  (exists j, (j < nprev)%nat /\ p = (P + i * nprev + j)%nat) \/
  (hb = true /\ p = (P + n * nprev + i)%nat).
Proof.
  intros Hprev; unfold unit_expr; destruct hb; simpl.
  - intros [H|H]; [left; eapply occurs_unit_sum; eauto | right; auto].
  - intros H; left; eapply occurs_unit_sum; eauto.
Qed.

Lemma neurons_prev_no_params (K : nat) : no_params (fun j => ENeuron (K + j)).
Proof. intros j p; simpl; tauto. Qed.

Lemma input_no_params : no_params EInput.
Proof. intros j p; simpl; tauto. Qed.

(* every parameter of the layers ls lies in [P, P + mlp_nparams nprev ls) *)
Lemma mlp_neurons_params (ls : list layer) : forall prev nprev P K e act q,
  no_params prev -> In (e, act) (mlp_neurons prev nprev P K ls) -> occurs_param q e ->
  (P <= q < P + mlp_nparams nprev ls)%nat.
Proof.
  induction ls as [|[[n act0] hb] ls IH]; intros prev nprev P K e act q Hprev Hin Hq;
    simpl in Hin; [tauto|].
  simpl mlp_nparams; apply in_app_or in Hin as [Hin|Hin].
  - apply in_map_iff in Hin as [i [Heq Hi]]; injection Heq as <- <-.
    apply in_seq in Hi.
    destruct (occurs_unit_expr prev nprev P n i q hb Hprev Hq) as [[j [Hj ->]]|[-> ->]];
      unfold layer_nparams.
    + generalize (row_major_lt i j n nprev ltac:(lia) Hj); lia.
    + lia.
  - specialize (IH _ _ _ _ e act q (neurons_prev_no_params K) Hin Hq); lia.
Qed.

(** * Biases are exclusive *)

Definition dflt : expr * activation := (EConst 0, act_id).

Lemma mlp_neurons_bias (ls : list layer) : forall prev nprev P K k,
  no_params prev -> all_biased ls -> (k < length (mlp_neurons prev nprev P K ls))%nat ->
  exists p r, (P <= p < P + mlp_nparams nprev ls)%nat /\
    fst (nth k (mlp_neurons prev nprev P K ls) dflt) = EAdd r (EParam p) /\
    ~ occurs_param p r /\
    forall k', (k' < length (mlp_neurons prev nprev P K ls))%nat -> k' <> k ->
      ~ occurs_param p (fst (nth k' (mlp_neurons prev nprev P K ls) dflt)).
Proof.
  induction ls as [|[[n act0] hb] ls IH]; intros prev nprev P K k Hprev Hb Hk;
    simpl in Hk; [lia|].
  assert (hb = true) as -> by (apply (Hb (n, act0, hb)); now left).
  assert (Hb' : all_biased ls) by (intros l Hl; apply Hb; now right).
  simpl mlp_neurons; simpl mlp_nparams; unfold layer_nparams in *.
  rewrite app_length, map_length, seq_length in Hk.
  set (L' := mlp_neurons (fun j => ENeuron (K + j)) n (P + (n * nprev + n)) (K + n) ls)
    in *.
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
  rewrite app_length, map_length, seq_length.
  destruct (Nat.lt_ge_cases k n) as [Hkn|Hkn].
  - (* a unit of this layer: its bias P + n * nprev + k *)
    exists (P + n * nprev + k)%nat, (unit_sum prev nprev P k).
    split; [lia|]. split; [rewrite Hnth1 by exact Hkn; reflexivity|]. split.
    + intros Hq; destruct (occurs_unit_sum prev nprev P k _ Hprev Hq) as [j [Hj Heq]].
      generalize (row_major_lt k j n nprev Hkn Hj); lia.
    + intros k' Hk' Hne Hq; destruct (Nat.lt_ge_cases k' n) as [Hk'n|Hk'n].
      * rewrite Hnth1 in Hq by exact Hk'n.
        destruct (occurs_unit_expr prev nprev P n k' _ true Hprev Hq) as [[j [Hj Heq]]|[_ Heq]].
        -- generalize (row_major_lt k' j n nprev Hk'n Hj); lia.
        -- lia.
      * rewrite Hnth2 in Hq by exact Hk'n.
        apply Hparams' in Hq; [lia | lia].
  - (* a unit of a later layer *)
    destruct (IH (fun j => ENeuron (K + j)) n (P + (n * nprev + n))%nat (K + n)%nat (k - n)%nat
                 (neurons_prev_no_params K) Hb' ltac:(fold L'; lia))
      as [p [r [Hp [Htau [Hr Hexcl]]]]].
    fold L' in Htau, Hexcl.
    exists p, r; unfold layer_nparams in Hp. split; [lia|].
    split; [rewrite Hnth2 by exact Hkn; exact Htau|]. split; [exact Hr|].
    intros k' Hk' Hne Hq; destruct (Nat.lt_ge_cases k' n) as [Hk'n|Hk'n].
    + rewrite Hnth1 in Hq by exact Hk'n.
      destruct (occurs_unit_expr prev nprev P n k' _ true Hprev Hq) as [[j [Hj Heq]]|[_ Heq]].
      * generalize (row_major_lt k' j n nprev Hk'n Hj); lia.
      * lia.
    + rewrite Hnth2 in Hq by exact Hk'n.
      apply (Hexcl (k' - n)%nat); [lia | lia | exact Hq].
Qed.

Theorem mlp_bias_network (xs : list R) (ls : list layer) :
  all_biased ls -> bias_network (mlp xs ls).
Proof.
  intros Hb k Hk; unfold n_size in Hk; simpl in Hk.
  destruct (mlp_neurons_bias ls EInput (length xs) 0 0 k input_no_params Hb Hk)
    as [p [r [Hp [Htau [Hr Hexcl]]]]].
  exists p, r; unfold exclusive_param_with, tau, n_size; simpl.
  split; [lia|]. split; [exact Hk|]. split; [exact Hexcl|].
  split; [tauto|]. split; [tauto|]. split; [exact Hr|].
  intros w z; fold dflt; rewrite Htau; simpl; ring.
Qed.

(** * Well-formedness *)

Lemma occurs_neuron_sum_expr (m : nat) (l : list expr) :
  occurs_neuron m (sum_expr l) -> exists e, In e l /\ occurs_neuron m e.
Proof.
  induction l as [|e l IH]; simpl; [tauto|]; intros [H|H].
  - exists e; auto.
  - destruct (IH H) as [e' [He' Hp]]; exists e'; auto.
Qed.

Lemma occurs_neuron_unit_expr (prev : nat -> expr) (nprev P n i m : nat) (hb : bool) :
  occurs_neuron m (unit_expr prev nprev P n hb i) ->
  exists j, (j < nprev)%nat /\ occurs_neuron m (prev j).
Proof.
  assert (Hs : occurs_neuron m (unit_sum prev nprev P i) ->
               exists j, (j < nprev)%nat /\ occurs_neuron m (prev j)).
  { intros H; apply occurs_neuron_sum_expr in H as [e [He Hm]].
    apply in_map_iff in He as [j [<- Hj]]; apply in_seq in Hj.
    simpl in Hm; destruct Hm as [[]|Hm]; exists j; split; [lia | exact Hm]. }
  unfold unit_expr; destruct hb; simpl; [intros [H|[]]; auto | exact Hs].
Qed.

(* neuron k of the layers ls (global index K + k) reads earlier neurons only *)
Lemma mlp_neurons_below (ls : list layer) : forall prev nprev P K k,
  (forall j m, (j < nprev)%nat -> occurs_neuron m (prev j) -> (m < K)%nat) ->
  (k < length (mlp_neurons prev nprev P K ls))%nat ->
  neurons_below (K + k) (fst (nth k (mlp_neurons prev nprev P K ls) dflt)).
Proof.
  induction ls as [|[[n act0] hb] ls IH]; intros prev nprev P K k Hprev Hk;
    simpl in Hk; [lia|].
  simpl mlp_neurons; rewrite app_length, map_length, seq_length in Hk.
  destruct (Nat.lt_ge_cases k n) as [Hkn|Hkn].
  - rewrite app_nth1 by (rewrite map_length, seq_length; exact Hkn).
    rewrite nth_map_seq by exact Hkn; simpl.
    intros m Hm; destruct (occurs_neuron_unit_expr prev nprev P n k m hb Hm) as [j [Hj Hmj]].
    specialize (Hprev j m Hj Hmj); lia.
  - rewrite app_nth2 by (rewrite map_length, seq_length; exact Hkn).
    rewrite map_length, seq_length.
    replace (K + k)%nat with (K + n + (k - n))%nat by lia.
    apply IH; [| lia].
    intros j m Hj Hm; simpl in Hm; lia.
Qed.

Theorem mlp_wf (xs : list R) (ls : list layer) :
  (0 < n_size (mlp xs ls))%nat -> wf (mlp xs ls).
Proof.
  intros HN; unfold wf, n_size in *; simpl in *. split; [|split].
  - intros k Hk; unfold tau; simpl; split.
    + apply (mlp_neurons_below ls EInput (length xs) 0 0 k); [|exact Hk].
      intros j m _ Hm; simpl in Hm; tauto.
    + intros q Hq.
      assert (Hin : In (nth k (mlp_neurons EInput (length xs) 0 0 ls) dflt)
                       (mlp_neurons EInput (length xs) 0 0 ls)) by (apply nth_In; exact Hk).
      fold dflt in Hq.
      destruct (nth k (mlp_neurons EInput (length xs) 0 0 ls) dflt) as [e act] eqn:He.
      simpl in Hq.
      generalize (mlp_neurons_params ls EInput (length xs) 0 0 e act q input_no_params Hin Hq).
      lia.
  - intros j Hj; simpl in Hj; lia.
  - intros q Hq; simpl in Hq; tauto.
Qed.

(** * Size and kinks of an MLP *)

Definition layer_units (l : layer) : nat := fst (fst l).
Definition layer_act (l : layer) : activation := snd (fst l).

Lemma list_sum_nth_seq {A : Type} (f : A -> nat) (L : list A) (d : A) :
  list_sum (map (fun k => f (nth k L d)) (seq 0 (length L))) = list_sum (map f L).
Proof.
  induction L as [|x L IH]; [reflexivity|]; cbn [length seq map list_sum].
  rewrite <- seq_shift, map_map; cbn [nth].
  unfold list_sum in IH |- *; cbn [fold_right]; rewrite IH; reflexivity.
Qed.

Lemma mlp_neurons_acts (ls : list layer) : forall prev nprev P K,
  map snd (mlp_neurons prev nprev P K ls) =
  flat_map (fun l => repeat (layer_act l) (layer_units l)) ls.
Proof.
  induction ls as [|[[n act] hb] ls IH]; intros prev nprev P K; [reflexivity|].
  simpl mlp_neurons; rewrite map_app, IH, map_map; simpl; f_equal.
  unfold layer_act, layer_units; simpl.
  clear; generalize 0%nat; induction n as [|n IHn]; intros s; [reflexivity|]; simpl; f_equal; apply IHn.
Qed.

(* N = sum of the layers' widths *)
Theorem mlp_size (xs : list R) (ls : list layer) :
  n_size (mlp xs ls) = list_sum (map layer_units ls).
Proof.
  unfold n_size; simpl; rewrite <- (map_length snd), mlp_neurons_acts.
  induction ls as [|l ls IH]; [reflexivity|]; simpl; rewrite app_length, repeat_length, IH; reflexivity.
Qed.

(* some layer has a unit: the MLP has a neuron *)
Lemma mlp_size_pos (xs : list R) (ls : list layer) :
  (exists l, In l ls /\ (0 < layer_units l)%nat) -> (0 < n_size (mlp xs ls))%nat.
Proof.
  intros [l [Hl Hu]]; rewrite mlp_size.
  induction ls as [|l' ls IH]; [destruct Hl|]; simpl.
  destruct Hl as [->|Hl]; [lia|]; specialize (IH Hl); lia.
Qed.

Corollary mlp_wf_units (xs : list R) (ls : list layer) :
  (exists l, In l ls /\ (0 < layer_units l)%nat) -> wf (mlp xs ls).
Proof. intros H; apply mlp_wf, mlp_size_pos, H. Qed.
