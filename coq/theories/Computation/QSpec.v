(* Network specs as the JSON files of examples/ spell them (README.md,
   "Network spec"; THEORY.md section 3): a fixed rational input and dense
   layers, each with its number of units, its activation, whether it has
   biases, and constant weights / biases where the file gives them (None:
   parameters).  [spec_qnet] flattens a spec exactly as python/adcorrect/
   spec.py does: neurons layer by layer, parameters layer by layer, the
   layer's weights row-major, then its biases; y = sum_j W[i][j] * z_j + b_i;
   f is the output of the last neuron.  Examples.v holds the specs of
   examples/*.json, rendered by python/adcorrect/coqspec.py (tests compare). *)
From Coq Require Import Reals QArith List Arith.
From ADCorrect Require Import Network QAct QNet QAD.
Import ListNotations.

Record qlayer := mk_layer {
  l_units : nat;
  l_act : qact;
  l_bias : bool;
  l_weights : option (list (list Q));   (* None: parameters *)
  l_biases : option (list Q)            (* None (and l_bias): parameters *)
}.

Record qspec := mk_spec {
  s_input : list Q;
  s_layers : list qlayer
}.

Open Scope Q_scope.

(* the sum of terms, as Network.v's dense layers write it (MLP.v, sum_expr) *)
Definition qsum_expr (l : list qexpr) : qexpr := fold_right QAdd (QConst 0) l.

(* weight (i, j) of a layer whose parameters start at p *)
Definition layer_weight (l : qlayer) (fan p i j : nat) : qexpr :=
  match l_weights l with
  | None => QParam (p + i * fan + j)
  | Some rows => QConst (nth j (nth i rows []) 0)
  end.

(* the first parameter after the layer's weights / after the whole layer *)
Definition after_weights (l : qlayer) (fan p : nat) : nat :=
  match l_weights l with None => p + l_units l * fan | Some _ => p end.
Definition after_layer (l : qlayer) (fan p : nat) : nat :=
  let p1 := after_weights l fan p in
  if l_bias l then match l_biases l with None => p1 + l_units l | Some _ => p1 end else p1.

(* pre-activation of unit i, the sources of the layer being prev *)
Definition unit_tau (l : qlayer) (prev : list qexpr) (p i : nat) : qexpr :=
  let fan := length prev in
  let s := qsum_expr (map (fun j => QMul (layer_weight l fan p i j) (nth j prev (QConst 0)))
                          (seq 0 fan)) in
  if l_bias l then
    QAdd s (match l_biases l with
            | None => QParam (after_weights l fan p + i)
            | Some bs => QConst (nth i bs 0)
            end)
  else s.

(* neurons of the layers ls, and the number of parameters so far *)
Fixpoint flatten (ls : list qlayer) (prev : list qexpr) (p base : nat)
  : list (qexpr * qact) * nat :=
  match ls with
  | [] => ([], p)
  | l :: ls' =>
      let units := map (fun i => (unit_tau l prev p i, l_act l)) (seq 0 (l_units l)) in
      let rest := flatten ls' (map (fun i => QNeuron (base + i)) (seq 0 (l_units l)))
                    (after_layer l (length prev) p) (base + l_units l) in
      (units ++ fst rest, snd rest)
  end.

Definition spec_qnet (s : qspec) : qnet :=
  let fl := flatten (s_layers s) (map QInput (seq 0 (length (s_input s)))) 0 0 in
  mk_qnet (snd fl) (s_input s) (fst fl) (QNeuron (length (fst fl) - 1)).

Close Scope Q_scope.

(* the network of Network.v that the spec describes *)
Definition spec_network (s : qspec) : network := to_network (spec_qnet s).

(* PyTorch's derivative choices at the kinks, neuron by neuron *)
Definition spec_torch (s : qspec) : nat -> R := qD (torch_dq (spec_qnet s)).
