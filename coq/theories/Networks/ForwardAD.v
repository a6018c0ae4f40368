(* Forward-mode AD with a derivative choice (THEORY.md section 4: "Reverse
   mode with choice D (forward mode gives the same numbers)").  Tangents
   along a direction h in R^W, propagated from the first neuron up, with the
   same numbers D sigma_k (y_k) as reverse mode (AD.v, dchoice):
     ydot_k = sum_p h_p dtau_k/dw_p + sum_(i<k) zdot_i dtau_k/dz_i
     zdot_k = D sigma_k (y_k) * ydot_k
     AD^fwd_D f(w; h) = sum_p h_p dg/dw_p + sum_k zdot_k dg/dz_k
   The tangent recursion itself is AD.v's [zdots]/[fdot] (section Forward),
   which proves it equal to reverse mode for arbitrary slopes; here it is
   instantiated with the choices D, and the result is stated coordinatewise:
   forward mode along e_p is the p-th entry of reverse-mode AD. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Section ForwardAD.
Variable net : network.

(* tangents zdot_k and ydot_k along h, with the choice D at kinks *)
Definition zdot_D (D : nat -> R) (w h : vec) (k : nat) : R := zdot net (dchoice net D w) w h k.
Definition ydot_D (D : nat -> R) (w h : vec) (k : nat) : R := ydot net (dchoice net D w) w h k.

(* forward-mode AD: the tangent of f along h *)
Definition ad_forward (D : nat -> R) (w h : vec) : R := fdot net (dchoice net D w) w h.

(** * The tangent recursion *)

Hypothesis Hwf : wf net.

(* ydot_k reads the parameters' direct contribution and the tangents of the
   neurons below k only *)
Lemma ydot_D_eq (D : nat -> R) (w h : vec) (k : nat) :
  (k < n_size net)%nat ->
  ydot_D D w h k =
    sumn (n_params net) (fun p => h p * eval (n_input net) w (zvec net w) (dparam p (tau net k))) +
    sumn k (fun i => zdot_D D w h i * eval (n_input net) w (zvec net w) (dneuron i (tau net k))).
Proof.
  intros Hk; unfold ydot_D, ydot, tau_dir, dw_coef; f_equal.
  rewrite (sumn_zero_above k (n_size net)); [reflexivity | lia |].
  intros i Hi; rewrite dz_coef_above by (assumption || lia); ring.
Qed.

Lemma zdot_D_eq (D : nat -> R) (w h : vec) (k : nat) :
  (k < n_size net)%nat -> zdot_D D w h k = dchoice net D w k * ydot_D D w h k.
Proof. intros Hk; unfold zdot_D, ydot_D; apply zdot_eq; assumption. Qed.

Lemma ad_forward_eq (D : nat -> R) (w h : vec) :
  ad_forward D w h =
    sumn (n_params net) (fun p => h p * eval (n_input net) w (zvec net w) (dparam p (n_out net))) +
    sumn (n_size net) (fun k => zdot_D D w h k * eval (n_input net) w (zvec net w) (dneuron k (n_out net))).
Proof. reflexivity. Qed.

(** * Forward mode equals reverse mode *)

(* the tangent along h is reverse-mode AD dotted with h *)
Theorem ad_forward_dot (D : nat -> R) (w h : vec) :
  ad_forward D w h = dot (n_params net) (ad net D w) h.
Proof. unfold ad_forward, ad; apply forward_reverse; assumption. Qed.

(* along e_p: the p-th entry of reverse-mode AD *)
Theorem ad_forward_eq_reverse (D : nat -> R) (w : vec) (p : nat) :
  (p < n_params net)%nat -> ad_forward D w (unit_vec p) = ad net D w p.
Proof. intros Hp; unfold ad_forward, ad; apply forward_reverse_unit; assumption. Qed.

End ForwardAD.
