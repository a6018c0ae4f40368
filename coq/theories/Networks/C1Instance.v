(* A network of Network.v, whose output g is a polynomial [expr], is a network
   with a C1 output (C1Output.v; issue 10, item 7): g read on the packed
   (w, z) is C1 on R^(W+N), with gradient the symbolic derivatives dparam /
   dneuron; its value is f(w) and its AD is AD of Network.v.  So the C1
   theorems (C1Theorems.v) contain the polynomial ones. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD SelectLocal C1Output.
Import ListNotations.
Open Scope R_scope.

Section Poly.
Variable net : network.
Hypothesis Hwf : wf net.
Let W := n_params net.
Let N := n_size net.
Let x := n_input net.
Let e := n_out net.

(* the neuron outputs read off a packed vector *)
Definition unpack_z (u : vec) : nat -> R := fun j => u (W + j)%nat.

Definition poly_g (u : vec) : R := eval x u (unpack_z u) e.

Definition poly_dg (u : vec) : vec :=
  expr_grad x (fun v => unpack_z v) u (fun j => unit_vec (W + j)) (seq 0 N) e.

Lemma poly_g_diff (u : vec) : differentiable_at (W + N) poly_g u (poly_dg u).
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  apply (eval_differentiable_at (W + N) x (fun v => unpack_z v) u _ (seq 0 N) (seq_NoDup _ _) e).
  - intros p Hp; specialize (Hpb p Hp); fold W in Hpb; lia.
  - intros j Hj; apply in_seq; specialize (Hnb j Hj); fold N in Hnb; lia.
  - intros j Hj; specialize (Hnb j Hj); apply differentiable_at_coord; fold N in Hnb; lia.
Qed.

Lemma occurs_neuron_dneuron (i j : nat) (e' : expr) :
  occurs_neuron j (dneuron i e') -> occurs_neuron j e'.
Proof. induction e'; simpl; intuition. Qed.

Lemma occurs_neuron_dparam' (p j : nat) (e' : expr) :
  occurs_neuron j (dparam p e') -> occurs_neuron j e'.
Proof. induction e'; simpl; intuition. Qed.

Lemma unpack_continuous (u : vec) (e' : expr) :
  params_below W e' -> neurons_below N e' ->
  continuous_at (W + N) (fun v => eval x v (unpack_z v) e') u.
Proof.
  intros Hp Hn; apply eval_continuous.
  - intros p Hq; specialize (Hp p Hq); lia.
  - intros j Hj; specialize (Hn j Hj); apply continuous_at_coord; lia.
Qed.

Lemma poly_dg_cont (u : vec) (i : nat) : continuous_at (W + N) (fun v => poly_dg v i) u.
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  unfold poly_dg, expr_grad.
  apply (continuous_at_plus (W + N) (fun v => eval x v (unpack_z v) (dparam i e))).
  - apply unpack_continuous.
    + apply params_below_dparam_c1, Hpb.
    + intros j Hj; apply Hnb, (occurs_neuron_dparam' i j e), Hj.
  - apply (sum_list_continuous_at (W + N) u (seq 0 N)
             (fun j v => eval x v (unpack_z v) (dneuron j e) * unit_vec (W + j) i)).
    intros j _; apply (continuous_at_mult (W + N) (fun v => eval x v (unpack_z v) (dneuron j e))
                                           (fun _ => unit_vec (W + j) i)).
    + apply unpack_continuous.
      * apply params_below_dneuron_c1, Hpb.
      * intros j' Hj'; apply Hnb, (occurs_neuron_dneuron j j' e), Hj'.
    + apply continuous_at_const.
Qed.

Definition poly_output : c1_output W N :=
  mk_c1_output W N poly_g poly_dg poly_g_diff poly_dg_cont.

(* the network with its polynomial output, as a network with a C1 output *)
Definition c1_of_net : c1_network := mk_c1_network net poly_output.

Lemma eval_pack (w : vec) (e' : expr) :
  params_below W e' -> neurons_below N e' ->
  eval x (pack W w (zvec net w)) (unpack_z (pack W w (zvec net w))) e' = eval x w (zvec net w) e'.
Proof.
  intros Hp Hn; rewrite (eval_ext_param x _ w); [apply eval_ext_neuron|].
  - intros j _; unfold unpack_z; apply pack_ge.
  - intros p Hq; apply pack_lt, Hp, Hq.
Qed.

Theorem c1_of_net_eval (w : vec) : c1_eval c1_of_net w = net_eval net w.
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  unfold c1_eval, c1_point; cbn [c1_g cn_out c1_of_net poly_output cn_net].
  unfold poly_g; apply eval_pack; assumption.
Qed.

Lemma sum_unit_vec_lt (p : nat) (f : nat -> R) :
  (p < W)%nat -> sum_list (map (fun j => f j * unit_vec (W + j) p) (seq 0 N)) = 0.
Proof.
  intros Hp; apply sum_list_map_zero; intros j _; unfold unit_vec.
  destruct (Nat.eq_dec p (W + j)); [lia | ring].
Qed.

Lemma dgw_c1_of_net (w : vec) (p : nat) : (p < W)%nat ->
  dgw c1_of_net w p = eval x w (zvec net w) (dparam p e).
Proof.
  destruct Hwf as (_ & Hnb & Hpb); intros Hp.
  unfold dgw, c1_point; cbn [c1_dg cn_out c1_of_net poly_output cn_net].
  unfold poly_dg, expr_grad; rewrite sum_unit_vec_lt by exact Hp.
  rewrite Rplus_0_r; apply eval_pack.
  - apply params_below_dparam_c1, Hpb.
  - intros j Hj; apply Hnb, (occurs_neuron_dparam' p j e), Hj.
Qed.

Lemma sum_list_indicator_at (l : list nat) (k : nat) (f : nat -> R) :
  NoDup l -> In k l ->
  sum_list (map (fun j => f j * unit_vec (W + j)%nat (W + k)%nat) l) = f k.
Proof.
  intros Hnd Hin; rewrite <- (sum_list_map_indicator l k f Hnd Hin).
  apply sum_list_map_ext; intros j _; unfold unit_vec.
  destruct (Nat.eq_dec (W + k) (W + j)), (Nat.eq_dec k j); try lia; ring.
Qed.

Lemma dgz_c1_of_net (w : vec) (k : nat) : (k < N)%nat ->
  dgz c1_of_net w k = eval x w (zvec net w) (dneuron k e).
Proof.
  destruct Hwf as (_ & Hnb & Hpb); intros Hk.
  unfold dgz, c1_point; cbn [c1_dg cn_out c1_of_net poly_output cn_net].
  unfold poly_dg, expr_grad.
  rewrite dparam_not_occurs by (intros Ho; specialize (Hpb _ Ho); fold W in Hpb; lia).
  rewrite Rplus_0_l.
  rewrite (sum_list_indicator_at (seq 0 N) k); [| apply seq_NoDup | apply in_seq; lia].
  apply eval_pack.
  - apply params_below_dneuron_c1, Hpb.
  - intros j Hj; apply Hnb, (occurs_neuron_dneuron k j e), Hj.
Qed.

(* the adjoints only see the output through its derivatives in the z_k *)
Lemma ybars_out_ext (o : expr) (sl : nat -> R) (w : vec) :
  (forall k, (k < N)%nat -> eval x w (zvec net w) (dneuron k o) = eval x w (zvec net w) (dneuron k e)) ->
  forall m j, (m <= N)%nat -> ybars_sl (with_out net o) sl w m j = ybars_sl net sl w m j.
Proof.
  intros Ho m; induction m as [|m IH]; intros j Hm; [reflexivity|]; simpl.
  change (n_size (with_out net o)) with N; fold N.
  destruct (Nat.eq_dec j (N - S m)) as [Hj|Hj]; [|apply IH; lia].
  f_equal; unfold zbar_from; rewrite zvec_with_out.
  change (n_size (with_out net o)) with N; fold N.
  f_equal; [apply Ho; lia|].
  apply sum_list_map_ext; intros i _; rewrite IH by lia; reflexivity.
Qed.

Lemma ybar_c1_of_net (D : nat -> R) (w : vec) (k : nat) :
  ybar_c1 c1_of_net D w k = ybar net D w k.
Proof.
  unfold ybar_c1, ybar, ybar_sl.
  change (net_lin c1_of_net w) with (with_out net (lin_out (dgz c1_of_net w) N)).
  change (n_size (with_out net (lin_out (dgz c1_of_net w) N))) with N.
  replace (dchoice (with_out net (lin_out (dgz c1_of_net w) N)) D w) with (dchoice net D w)
    by (apply functional_extensionality; intros j; unfold dchoice; rewrite preact_with_out; reflexivity).
  apply ybars_out_ext; [|lia].
  intros i Hi; rewrite eval_dneuron_lin_out by exact Hi; apply dgz_c1_of_net, Hi.
Qed.

(* AD of the C1 network c1_of_net is AD of the network *)
Theorem ad_c1_of_net (D : nat -> R) (w : vec) (p : nat) :
  (p < W)%nat -> ad_c1 c1_of_net D w p = ad net D w p.
Proof.
  intros Hp; rewrite ad_c1_eq, ad_eq, dgw_c1_of_net by exact Hp.
  f_equal; apply sum_list_map_ext; intros k _; rewrite ybar_c1_of_net; reflexivity.
Qed.

Theorem zbar_c1_of_net (D : nat -> R) (w : vec) (k : nat) :
  (k < N)%nat -> zbar_c1 c1_of_net D w k = zbar net D w k.
Proof.
  intros Hk; rewrite zbar_c1_eq, zbar_eq, dgz_c1_of_net by exact Hk.
  f_equal; apply sum_list_map_ext; intros j _; rewrite ybar_c1_of_net; reflexivity.
Qed.

Theorem NS_c1_of_net (D : nat -> R) (w : vec) : NS_c1 c1_of_net D w <-> NS net D w.
Proof.
  unfold NS_c1, NS; cbn [cn_net c1_of_net]; split; intros [k [Hk Hz]]; exists k; split; auto.
  - rewrite <- zbar_c1_of_net; [exact Hz|]; apply kink_neurons_spec in Hk; tauto.
  - rewrite zbar_c1_of_net; [exact Hz|]; apply kink_neurons_spec in Hk; tauto.
Qed.

End Poly.
