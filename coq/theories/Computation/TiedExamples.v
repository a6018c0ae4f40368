(* Non-vacuity of the computable test of QTied.v (issue 18, "Coq V", item
   3).  Two relu neurons of one class with the common bias w_0, at u = (0, 0)
   (both on their kink), output z_0 - z_1:
   - tied_same: y_0 = w_0, y_1 = w_0 (equal tangent forms): the kinks cancel,
     f = 0 is differentiable, and the test says Some true;
   - tied_diff: y_0 = w_0, y_1 = w_0 + w_1 (different forms): the kinks do
     not cancel although their weights sum to 0, f = relu(w_0) -
     relu(w_0 + w_1) is not differentiable at 0, and the test says
     Some false. *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network Tied QAct QNet QDecide QTied.
Import ListNotations.

(** * Definitions *)

Definition tied_out : qexpr := QAdd (QNeuron 0) (QMul (QConst (-1)) (QNeuron 1)).

Definition tied_same : qnet :=
  mk_qnet 2 [] [(QAdd (QParam 0) (QConst 0), QRelu); (QAdd (QParam 0) (QConst 0), QRelu)] tied_out.

Definition tied_diff : qnet :=
  mk_qnet 2 [] [(QAdd (QParam 0) (QConst 0), QRelu); (QAdd (QParam 0) (QMul (QParam 1) (QConst 1)), QRelu)]
    tied_out.

Definition tied_u0 : list Q := [0; 0]%Q.

(** * Both are tied-bias networks (one class, bias w_0) *)

Lemma tied_two_relu (e : qexpr) :
  ~ occurs_param 0 (to_expr e) -> (forall j, ~ occurs_neuron j (to_expr e)) ->
  tied_bias (to_network (mk_qnet 2 [] [(QAdd (QParam 0) (QConst 0), QRelu); (QAdd (QParam 0) e, QRelu)] tied_out))
    (fun _ => 0%nat) (fun _ => 0%nat).
Proof.
  intros He0 Hn; split.
  - intros c j Hc Hj; exfalso; unfold n_size in Hc; simpl in Hc.
    destruct c as [|[|c]]; [simpl in Hj; tauto | | lia].
    simpl in Hj; destruct Hj as [[]|Hj]; exact (Hn j Hj).
  - intros c0 _ _; split; [simpl; lia|]; intros c Hc; unfold n_size in Hc; simpl in Hc.
    split; [|intros H; exfalso; apply H; reflexivity]; intros _.
    destruct c as [|[|c]]; [| |lia].
    + exists (EConst (Q2R 0)); split; [simpl; tauto | intros w z; reflexivity].
    + exists (to_expr e); split; [exact He0 | intros w z; reflexivity].
Qed.

Lemma tied_same_tied : tied_bias (to_network tied_same) (fun _ => 0%nat) (fun _ => 0%nat).
Proof. apply (tied_two_relu (QConst 0)); simpl; tauto. Qed.

Lemma tied_diff_tied : tied_bias (to_network tied_diff) (fun _ => 0%nat) (fun _ => 0%nat).
Proof. apply (tied_two_relu (QMul (QParam 1) (QConst 1))); simpl; [lia | tauto]. Qed.

(** * The test decides both *)

Theorem tied_same_differentiable :
  qtied_test tied_same (fun _ => 0%nat) tied_u0 = Some true /\
  differentiable 2 (net_eval (to_network tied_same)) (qpoint tied_u0).
Proof.
  assert (H : qtied_test tied_same (fun _ => 0%nat) tied_u0 = Some true) by (vm_compute; reflexivity).
  split; [exact H|].
  apply (proj2 (qtied_test_correct tied_same _ _ tied_u0 true ltac:(vm_compute; reflexivity) tied_same_tied H)).
  reflexivity.
Qed.

Theorem tied_diff_not_differentiable :
  qtied_test tied_diff (fun _ => 0%nat) tied_u0 = Some false /\
  ~ differentiable 2 (net_eval (to_network tied_diff)) (qpoint tied_u0).
Proof.
  assert (H : qtied_test tied_diff (fun _ => 0%nat) tied_u0 = Some false) by (vm_compute; reflexivity).
  split; [exact H|]; intros Hd.
  apply (qtied_test_correct tied_diff _ _ tied_u0 false ltac:(vm_compute; reflexivity) tied_diff_tied H) in Hd.
  discriminate.
Qed.
