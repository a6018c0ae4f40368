(* Non-vacuity of the computable test of QTied.v (issue 18, "Coq V", item
   3).  Two relu neurons of one class with the common bias w_0, at u = (0, 0)
   (both on their kink), output z_0 - z_1:
   - tied_same: y_0 = w_0, y_1 = w_0 (equal tangent forms): the kinks cancel,
     f = 0 is differentiable, and the test says Some true;
   - tied_diff: y_0 = w_0, y_1 = w_0 + w_1 (different forms): the kinks do
     not cancel although their weights sum to 0, f = relu(w_0) -
     relu(w_0 + w_1) is not differentiable at 0, and the test says
     Some false.
   Two classes ({0, 1} with bias w_0, {2, 3} with bias w_1), y = w_0, w_0,
   w_1, w_1, all kinked at 0: QTied's test does not answer (two kinked
   classes); QTiedIndep's does: with output z_0 - z_1 + z_2 - z_3 the kinks
   cancel in both classes (differentiable), with z_0 - z_1 + z_2 + z_3 not. *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network Tied QAct QNet QDecide QTied QTiedIndep.
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

(** * Kinks in two classes (QTiedIndep.v) *)

(* classes {0, 1} (bias w_0) and {2, 3} (bias w_1), all relu, all at their
   kink at u = (0, 0); y_0 = y_1 = w_0, y_2 = y_3 = w_1 *)
Definition two_class_neurons : list (qexpr * qact) :=
  [(QAdd (QParam 0) (QConst 0), QRelu); (QAdd (QParam 0) (QConst 0), QRelu);
   (QAdd (QParam 1) (QConst 0), QRelu); (QAdd (QParam 1) (QConst 0), QRelu)].

(* z_0 - z_1 + z_2 - z_3 = 0: the kinks cancel in both classes *)
Definition two_class_cancel : qnet :=
  mk_qnet 2 [] two_class_neurons
    (QAdd (QAdd (QNeuron 0) (QMul (QConst (-1)) (QNeuron 1))) (QAdd (QNeuron 2) (QMul (QConst (-1)) (QNeuron 3)))).

(* z_0 - z_1 + z_2 + z_3: the kinks of the second class do not cancel *)
Definition two_class_kink : qnet :=
  mk_qnet 2 [] two_class_neurons
    (QAdd (QAdd (QNeuron 0) (QMul (QConst (-1)) (QNeuron 1))) (QAdd (QNeuron 2) (QNeuron 3))).

Definition two_cls (c : nat) : nat := (c / 2)%nat.

Lemma two_class_tied (o : qexpr) :
  tied_bias (to_network (mk_qnet 2 [] two_class_neurons o)) two_cls (fun K => K).
Proof.
  assert (Hcases : forall x, (x < 4)%nat -> x = 0%nat \/ x = 1%nat \/ x = 2%nat \/ x = 3%nat) by (intros; lia).
  split.
  - intros c j Hc Hj; exfalso; unfold n_size in Hc; simpl in Hc.
    destruct (Hcases c Hc) as [-> | [-> | [-> | ->]]]; simpl in Hj; tauto.
  - intros c0 Hc0 _; unfold n_size in Hc0; simpl in Hc0; intros.
    destruct (Hcases c0 Hc0) as [-> | [-> | [-> | ->]]];
      (split; [cbn; lia|]); intros c Hc; unfold n_size in Hc; simpl in Hc;
      destruct (Hcases c Hc) as [-> | [-> | [-> | ->]]]; cbn;
      (split; [intros HK'; first [exfalso; lia |
                 exists (EConst (Q2R 0)); split; [simpl; tauto | intros w z; reflexivity]]
              | intros H; first [exfalso; apply H; reflexivity | intros [E|[]]; lia]]).
Qed.

Theorem two_class_examples :
  qtied_test two_class_cancel two_cls tied_u0 = None /\
  qindep_test two_class_cancel two_cls tied_u0 = Some true /\
  differentiable 2 (net_eval (to_network two_class_cancel)) (qpoint tied_u0) /\
  qindep_test two_class_kink two_cls tied_u0 = Some false /\
  ~ differentiable 2 (net_eval (to_network two_class_kink)) (qpoint tied_u0).
Proof.
  assert (H1 : qindep_test two_class_cancel two_cls tied_u0 = Some true) by (vm_compute; reflexivity).
  assert (H2 : qindep_test two_class_kink two_cls tied_u0 = Some false) by (vm_compute; reflexivity).
  split; [vm_compute; reflexivity|]; split; [exact H1|]; split.
  - apply (proj2 (qindep_test_correct two_class_cancel _ _ tied_u0 true ltac:(vm_compute; reflexivity)
                    (two_class_tied _) H1)); reflexivity.
  - split; [exact H2|]; intros Hd.
    apply (qindep_test_correct two_class_kink _ _ tied_u0 false ltac:(vm_compute; reflexivity)
             (two_class_tied _) H2) in Hd; discriminate.
Qed.
