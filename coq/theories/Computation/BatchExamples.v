(* Batched and tied networks over which BatchCertified.v counts (issue 18,
   item 5; THEORY.md section 8.1), in the class of QBatch.v: one base neuron
   y = b + x, a batch (or the positions of a convolution) x_0 .. x_(B-1), the
   sum loss L(b) = sum_i sigma(b + x_i).  Each "(* batch: NETWORK BATCH LOSS *)"
   line names the JSON spec, the batch file and the loss of adcorrect's
   batched network (python/adcorrect/batch.py) that net_X is ("-" and "-" for
   a tied network that is a plain network of its own); check_proofs.py
   reads these lines to export the certified numbers (report/proof-status.json,
   "certified_batched").  torch_X is PyTorch's derivative choice at the kinks,
   the same for every copy.  The formats M_Y are those of Examples.v.
   net_theory_8_1_batch is outside QBatch.v's class: its batch has equal
   inputs, and BatchEqual.v reduces it to collapsed_theory_8_1. *)
From Coq Require Import Reals QArith List.
From ADCorrect Require Import Network C1Output Batch QAct QNet QAD QBatch.
Import ListNotations.
Local Open Scope Q_scope.

(* examples/t6-hardtanh.json: f = hardtanh(x + b); batch x = -1, 1 with
   weights y = 1, 1 and the sum loss: L(b) = hardtanh(b - 1) + hardtanh(b + 1) *)
(* batch: examples/t6-hardtanh.json examples/t6-hardtanh-batch.npz sum *)
Definition net_t6_hardtanh_batch : network := qbt_network QHardtanh 1 [-1; 1].
Definition torch_t6_hardtanh_batch : nat -> R := qbt_choice (qtorch QHardtanh).

(* A tiny 1-d convolution (a tied network): one channel, kernel (1, 1)
   frozen, bias b (the only parameter), signal (1, -1, 0, 2), hardtanh, sum
   over the three positions: L(b) = sum_p hardtanh(b + x_p) with the window
   sums x = (0, -1, 2).  As a version-2 spec (a plain network, no batch:
   batch and loss "-") it is inputs x0..x3 = 1, -1, 0, 2, parameter b, nodes
   h_p = hardtanh(x_p + x_(p+1) + b) (p = 0, 1, 2) and o = h_0 + h_1 + h_2;
   tests/specs/conv1d-hardtanh.json is that spec. *)
(* batch: tests/specs/conv1d-hardtanh.json - - *)
Definition net_conv1d_hardtanh : network := qbt_network QHardtanh 1 [0; -1; 2].
Definition torch_conv1d_hardtanh : nat -> R := qbt_choice (qtorch QHardtanh).

(* examples/theory-8.1.json: h = relu(a x + b), f = c h + d (parameters
   a, b, c, d = w_0 .. w_3, as adcorrect numbers them); batch
   examples/theory-8.1-batch.npz: x = 1, 1, targets 1, -1; MSE, the mean over
   the 2 entries: L = ((f_0 - 1)^2 + (f_1 + 1)^2) / 2, f_i the copy of f for
   example i (neuron 2 i + 1 of the batched network). *)
Definition base_theory_8_1 : qnet :=
  mk_qnet 4 [1] [(QAdd (QMul (QParam 0) (QInput 0)) (QParam 1), QRelu);
                 (QAdd (QMul (QParam 2) (QNeuron 0)) (QParam 3), QIdentity)] (QNeuron 1).
Definition mse_theory_8_1 : qexpr :=
  QMul (QConst (1 # 2))
    (QAdd (QMul (QAdd (QNeuron 1) (QConst (-1))) (QAdd (QNeuron 1) (QConst (-1))))
          (QMul (QAdd (QNeuron 3) (QConst 1)) (QAdd (QNeuron 3) (QConst 1)))).
(* batch: examples/theory-8.1.json examples/theory-8.1-batch.npz mse *)
Definition net_theory_8_1_batch : network :=
  with_out (batch_neurons (to_network base_theory_8_1) 2 (fun _ => n_input (to_network base_theory_8_1)))
    (to_expr mse_theory_8_1).

(* PyTorch's choice at every copy: relu'(0) = 0 (copy c is base neuron c mod 2) *)
Definition torch_theory_8_1_batch : nat -> R :=
  fun c => qD (torch_dq base_theory_8_1) (c mod n_size (to_network base_theory_8_1)).

(* the collapsed network (BatchEqual.v): the base network with L as output,
   L = ((f - 1)^2 + (f + 1)^2) / 2 *)
Definition collapsed_theory_8_1 : qnet :=
  mk_qnet 4 [1] (q_neurons base_theory_8_1)
    (QMul (QConst (1 # 2))
       (QAdd (QMul (QAdd (QNeuron 1) (QConst (-1))) (QAdd (QNeuron 1) (QConst (-1))))
             (QMul (QAdd (QNeuron 1) (QConst 1)) (QAdd (QNeuron 1) (QConst 1))))).
