(* T1, T3, T5(b), T5(c) of THEORY.md section 5 for networks with a C1 output
   g (issue 10, item 7; C1Output.v).  At w, the C1 network is, to first
   order, the polynomial network net_lin (output sum_j dg/dz_j z_j) plus the
   smooth term dg/dw . v (c1_differentiable_at_iff); AD of the C1 network is
   AD of net_lin plus dg/dw, and NS is NS of net_lin.  Each theorem follows
   from the polynomial one applied to net_lin, which is well formed when the
   neurons are, and a bias network when every neuron has its own bias (the
   output g may use every parameter, the biases included). *)
From Coq Require Import Reals Lra Lia List Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output T5b T3 T1.
Import ListNotations.
Open Scope R_scope.

Section C1Theorems.
Variable cn : c1_network.
Let net := cn_net cn.
Let W := n_params net.
Hypothesis Hwf : wf_neurons net.

(* T5(b): not NS(w) => f differentiable at w with gradient AD_D f(w) *)
Theorem T5b_c1_not_NS_differentiable (D : nat -> R) (w : vec) :
  ~ NS_c1 cn D w -> differentiable_at W (c1_eval cn) w (ad_c1 cn D w).
Proof.
  intros Hns; apply (c1_differentiable_at_iff cn Hwf).
  eapply differentiable_at_grad_ext;
    [|apply (T5b_not_NS_differentiable (net_lin cn w) D w (wf_net_lin cn w Hwf));
      rewrite <- NS_c1_iff; exact Hns].
  intros p _; unfold ad_c1; ring.
Qed.

(* T5(c): NS(w) => not differentiable, when the topmost kink neuron with a
   non-zero adjoint is perturbable *)
Theorem T5c_c1_NS_not_differentiable (D : nat -> R) (w : vec) :
  NS_c1 cn D w ->
  (forall k, In k (kink_neurons net w) -> zbar_c1 cn D w k <> 0 ->
     (forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar_c1 cn D w j = 0) ->
     perturbable (net_lin cn w) w k) ->
  ~ differentiable W (c1_eval cn) w.
Proof.
  intros Hns Hpert Hd; apply (c1_differentiable_iff cn Hwf w) in Hd; revert Hd.
  apply (T5c_NS_not_differentiable (net_lin cn w) D w (wf_net_lin cn w Hwf)).
  - now apply NS_c1_iff.
  - intros k; rewrite kink_neurons_net_lin; intros Hk Hz Htop.
    apply Hpert; [exact Hk | exact Hz|].
    intros j Hj; apply Htop; exact Hj.
Qed.

Hypothesis Hb : bias_neurons net.

(* T3: for bias networks, f is not differentiable at w iff NS(w), for every D *)
Theorem T3_c1_ndf_iff_NS (D : nat -> R) (w : vec) :
  ~ differentiable W (c1_eval cn) w <-> NS_c1 cn D w.
Proof.
  unfold W, net; rewrite (c1_differentiable_iff cn Hwf w), NS_c1_iff.
  apply (T3 (net_lin cn w) D w (wf_net_lin cn w Hwf) (bias_net_lin cn w Hb)).
Qed.

(* T1: for bias networks, AD_D f(w) is the gradient wherever f is
   differentiable, for every choice D *)
Theorem T1_c1_ad_correct (D : nat -> R) (w g : vec) :
  differentiable_at W (c1_eval cn) w g ->
  forall p, (p < W)%nat -> ad_c1 cn D w p = g p.
Proof.
  intros Hd p Hp; apply (c1_differentiable_at_iff cn Hwf) in Hd.
  unfold ad_c1.
  rewrite (T1_ad_correct (net_lin cn w) D w _ (wf_net_lin cn w Hwf) (bias_net_lin cn w Hb) Hd p Hp).
  ring.
Qed.

End C1Theorems.
