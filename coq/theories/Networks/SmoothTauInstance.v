(* The polynomial networks of Network.v as smooth-tau networks (THEORY.md
   section 3; issue 18, item 3): each tau_k, an [expr] read on the packed
   (w, z), is C1 with gradient its symbolic derivatives (C1Instance.v's
   [poly_output]); the smooth-tau network [st_of_net] has the same
   pre-activations, outputs, K(w) and f.  (That its AD is the AD of
   Network.v is not proved here.) *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output C1Instance SmoothTau.
Import ListNotations.
Open Scope R_scope.

Lemma tau_nth_overflow net k : (n_size net <= k)%nat -> tau net k = EConst 0.
Proof. intros H; unfold tau; rewrite nth_overflow by exact H; reflexivity. Qed.

Lemma wf_tau_out net k : wf net -> wf (with_out net (tau net k)).
Proof.
  intros Hwf; apply wf_with_out; [apply wf_wf_neurons, Hwf| |].
  - destruct (lt_dec k (n_size net)) as [Hk|Hk].
    + intros j Hj; destruct (proj1 Hwf k Hk) as [Hb _]; specialize (Hb j Hj); lia.
    + rewrite tau_nth_overflow by lia; intros j [].
  - destruct (lt_dec k (n_size net)) as [Hk|Hk].
    + apply (proj1 Hwf k Hk).
    + rewrite tau_nth_overflow by lia; intros p [].
Qed.

(* tau_k and g as C1 functions of the packed (w, z) *)
Definition st_of_net (net : network) (Hwf : wf net) : st_network :=
  mk_st_network (n_params net) (n_size net)
    (fun k => poly_output (with_out net (tau net k)) (wf_tau_out net k Hwf))
    (sigma net) (poly_output net Hwf).

Section Instance.
Variables (net : network) (Hwf : wf net).
Local Notation sn := (st_of_net net Hwf).

Lemma eval_pack_any (e : expr) (w z : vec) :
  params_below (n_params net) e ->
  eval (n_input net) (pack (n_params net) w z) (fun j => pack (n_params net) w z (n_params net + j)%nat) e =
  eval (n_input net) w z e.
Proof.
  intros Hp; rewrite (eval_ext_param _ _ w) by (intros p Hq; apply pack_lt, Hp, Hq).
  apply eval_ext_neuron; intros j _; apply pack_ge.
Qed.

Lemma st_of_net_tau (w z : vec) (k : nat) :
  c1_g (st_tau sn k) (pack (n_params net) w z) = eval (n_input net) w z (tau net k).
Proof.
  simpl; unfold poly_g, unpack_z; simpl.
  apply eval_pack_any, (proj2 (proj2 (wf_tau_out net k Hwf))).
Qed.

Lemma st_of_net_zvals (w : vec) (n : nat) : forall j, st_zvals sn w n j = zvals net w n j.
Proof.
  induction n as [|n IH]; intros j; [reflexivity|]; cbn [st_zvals zvals].
  destruct (Nat.eq_dec j n); [|apply IH].
  change (st_W sn) with (n_params net); rewrite (st_of_net_tau w); f_equal; apply eval_ext_neuron; intros i _; apply IH.
Qed.

Theorem st_of_net_preact (w : vec) (k : nat) : st_preact sn w k = preact net w k.
Proof.
  unfold st_preact, st_point, preact; change (st_W sn) with (n_params net); rewrite st_of_net_tau.
  apply eval_ext_neuron; intros i _; apply st_of_net_zvals.
Qed.

Theorem st_of_net_post (w : vec) (k : nat) : st_post sn w k = post net w k.
Proof. unfold st_post, post; rewrite st_of_net_preact; reflexivity. Qed.

Theorem st_of_net_eval (w : vec) : st_eval sn w = net_eval net w.
Proof.
  unfold st_eval, net_eval; simpl st_W; simpl c1_g; unfold poly_g, unpack_z; simpl.
  rewrite eval_pack_any by apply (proj2 (proj2 Hwf)).
  apply eval_ext_neuron; intros i _; apply st_of_net_zvals.
Qed.

Theorem st_of_net_kink_neurons (w : vec) : st_kink_neurons sn w = kink_neurons net w.
Proof.
  unfold st_kink_neurons, kink_neurons; change (st_N sn) with (n_size net); apply filter_ext; intros k.
  rewrite st_of_net_preact; reflexivity.
Qed.

Theorem st_of_net_agrees (w : vec) :
  (forall k, st_preact sn w k = preact net w k) /\
  st_kink_neurons sn w = kink_neurons net w /\ st_eval sn w = net_eval net w.
Proof.
  split; [exact (st_of_net_preact w)|].
  split; [exact (st_of_net_kink_neurons w) | exact (st_of_net_eval w)].
Qed.

End Instance.
