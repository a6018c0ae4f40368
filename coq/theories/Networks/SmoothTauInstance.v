(* The polynomial networks of Network.v as smooth-tau networks (THEORY.md
   section 3; issue 18, item 3): each tau_k, an [expr] read on the packed
   (w, z), is C1 with gradient its symbolic derivatives (C1Instance.v's
   [poly_output]); the smooth-tau network [st_of_net] has the same
   pre-activations, outputs, K(w), f, adjoints and AD ([st_of_net_same]),
   so the polynomial theorems are special cases of the smooth-tau ones. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD C1Output C1Instance SmoothTau.
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

(** * AD of the instance is AD of Network.v *)

Section InstanceAD.
Variables (net : network) (Hwf : wf net).
Local Notation sn := (st_of_net net Hwf).
Local Notation W := (n_params net).
Local Notation N := (n_size net).
Local Notation x := (n_input net).

Lemma st_of_net_zvals_zvec w k j : (k <= N)%nat -> (j < k)%nat -> st_zvals sn w k j = zvec net w j.
Proof. intros Hk Hj; rewrite st_of_net_zvals, zvals_lt, zvec_lt by lia; reflexivity. Qed.

Lemma st_of_net_dw w k p : (k < N)%nat -> (p < W)%nat ->
  st_dw sn w k p = eval x w (zvec net w) (dparam p (tau net k)).
Proof.
  intros Hk Hp; destruct (proj1 Hwf k Hk) as [Hnb Hpb].
  unfold st_dw, st_point; cbn [c1_dg st_tau st_of_net poly_output st_W].
  unfold poly_dg, expr_grad.
  rewrite (sum_unit_vec_lt (with_out net (tau net k))) by exact Hp.
  rewrite Rplus_0_r; unfold unpack_z; cbn [n_params n_input n_out with_out].
  rewrite (eval_pack_any net) by (apply params_below_dparam_c1, Hpb).
  apply eval_ext_neuron; intros j Hj; apply (occurs_neuron_dparam' net) in Hj.
  apply st_of_net_zvals_zvec; [lia | apply Hnb, Hj].
Qed.

Lemma st_of_net_dz w j k : (j < N)%nat -> (k < j)%nat ->
  st_dz sn w j k = eval x w (zvec net w) (dneuron k (tau net j)).
Proof.
  intros Hj Hk; destruct (proj1 Hwf j Hj) as [Hnb Hpb].
  unfold st_dz, st_point; cbn [c1_dg st_tau st_of_net poly_output st_W].
  unfold poly_dg, expr_grad.
  rewrite dparam_not_occurs by (intros Ho; specialize (Hpb _ Ho); lia).
  rewrite Rplus_0_l.
  rewrite (sum_list_indicator_at (with_out net (tau net j)) (seq 0 N) k);
    [| apply seq_NoDup | apply in_seq; lia].
  unfold unpack_z; cbn [n_params n_input n_out with_out].
  rewrite (eval_pack_any net) by (apply params_below_dneuron_c1, Hpb).
  apply eval_ext_neuron; intros i Hi; apply (occurs_neuron_dneuron net) in Hi.
  apply st_of_net_zvals_zvec; [lia | apply Hnb, Hi].
Qed.

Lemma st_of_net_zvec w : st_zvec sn w = zvec net w.
Proof. apply functional_extensionality; intros j; apply st_of_net_zvals. Qed.

Lemma st_of_net_dgw w p : (p < W)%nat -> st_dgw sn w p = eval x w (zvec net w) (dparam p (n_out net)).
Proof.
  intros Hp; rewrite <- (dgw_c1_of_net net Hwf w p Hp).
  unfold st_dgw, dgw, c1_point; rewrite st_of_net_zvec; reflexivity.
Qed.

Lemma st_of_net_dgz w k : (k < N)%nat -> st_dgz sn w k = eval x w (zvec net w) (dneuron k (n_out net)).
Proof.
  intros Hk; rewrite <- (dgz_c1_of_net net Hwf w k Hk).
  unfold st_dgz, dgz, c1_point; rewrite st_of_net_zvec; reflexivity.
Qed.

Lemma st_of_net_ybar D w : forall m k, (N - m <= k)%nat -> (k < N)%nat -> st_ybar sn D w k = ybar net D w k.
Proof.
  induction m as [|m IH]; intros k Hm Hk; [lia|].
  destruct (st_ad_equations sn D w k 0 Hk) as [Hz [Hy _]].
  rewrite Hy, Hz, ybar_eq, zbar_eq by exact Hk.
  unfold dchoice; rewrite st_of_net_preact, st_of_net_dgz by exact Hk.
  change (st_sigma sn k) with (sigma net k); change (st_N sn) with N.
  f_equal; f_equal; apply sum_list_map_ext; intros j Hj; apply in_seq in Hj.
  rewrite st_of_net_dz by lia; rewrite (IH j) by lia; reflexivity.
Qed.

Theorem st_of_net_ad D w p : (p < W)%nat -> st_ad sn D w p = ad net D w p.
Proof.
  intros Hp; rewrite (st_ad_eq sn D w p Hp), ad_eq, st_of_net_dgw by exact Hp.
  change (st_N sn) with N; f_equal; apply sum_list_map_ext; intros k Hk; apply in_seq in Hk.
  rewrite st_of_net_dw, (st_of_net_ybar D w N k) by lia; reflexivity.
Qed.

(* the old theorems are special cases: same f, K(w), NS and AD *)
Theorem st_of_net_same (D : nat -> R) (w : vec) :
  (forall k, st_preact sn w k = preact net w k) /\
  st_kink_neurons sn w = kink_neurons net w /\ st_eval sn w = net_eval net w /\
  (forall k, (k < N)%nat -> st_zbar sn D w k = zbar net D w k) /\
  (forall p, (p < W)%nat -> st_ad sn D w p = ad net D w p).
Proof.
  destruct (st_of_net_agrees net Hwf w) as (H1 & H2 & H3).
  split; [exact H1 | split; [exact H2 | split; [exact H3 | split]]].
  - intros k Hk; destruct (st_ad_equations sn D w k 0 Hk) as [Hz _].
    rewrite Hz, zbar_eq, st_of_net_dgz by exact Hk.
    change (st_N sn) with N; f_equal; apply sum_list_map_ext; intros j Hj; apply in_seq in Hj.
    rewrite st_of_net_dz, (st_of_net_ybar D w N j) by lia; reflexivity.
  - intros p Hp; apply st_of_net_ad, Hp.
Qed.

End InstanceAD.
