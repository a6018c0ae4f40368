(* T1, T3, T5(b), T5(c) of THEORY.md section 5 for networks whose
   pre-activations tau_k are any C1 functions of the parameters and the
   earlier outputs (issue 18, item 3; Networks/SmoothTau.v).  At w the smooth
   network has the derivative of the C1 network [lin_c1 sn w] whose neurons
   are the Taylor polynomials of the tau_k at (w, z(w)) (same K(w), same AD,
   same NS), so each theorem is the C1-output one (C1Theorems.v) applied to
   it.  "Own bias" becomes: a parameter b with d tau_k / d w_b = 1 and
   d tau_j / d w_b = 0 for j <> k at (w, z(w)) ([st_bias_at]); it is only
   needed for neurons whose activation has a kink.  It holds at every w when
   tau_k = w_b + r_k(w without w_b, z) and no other tau_j reads w_b
   ([st_bias_network]). *)
From Coq Require Import Reals Lra Lia List Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output C1Theorems SmoothTau.
Import ListNotations.
Open Scope R_scope.

(** * Own biases *)

(* at w: w_p enters tau_k with slope 1 and no other tau_j *)
Definition st_bias_at (sn : st_network) (w : vec) (k p : nat) : Prop :=
  (p < st_W sn)%nat /\ st_dw sn w k p = 1 /\
  forall j, (j < st_N sn)%nat -> j <> k -> st_dw sn w j p = 0.

(* everywhere: tau_k = w_p + r_k(w without w_p, z), no other tau_j reads w_p *)
Definition st_bias_neuron (sn : st_network) (k p : nat) : Prop :=
  (p < st_W sn)%nat /\
  (forall u t, c1_g (st_tau sn k) (upd u p t) = c1_g (st_tau sn k) u + (t - u p)) /\
  (forall j, (j < st_N sn)%nat -> j <> k -> forall u t,
     c1_g (st_tau sn j) (upd u p t) = c1_g (st_tau sn j) u).

(* every neuron whose activation has a kink has its own bias *)
Definition st_bias_network (sn : st_network) : Prop :=
  forall k, (k < st_N sn)%nat -> kinks (st_sigma sn k) <> [] -> exists p, st_bias_neuron sn k p.

(* a function affine with slope c along coordinate p has partial derivative c *)
Lemma partial_of_affine n f u G p c :
  differentiable_at n f u G -> (p < n)%nat ->
  (forall t, f (upd u p t) = f u + c * (t - u p)) -> G p = c.
Proof.
  intros Hd Hp Hf; cut (G p - c = 0); [lra|]; apply Rabs_le_all_eps_0; intros eps Heps.
  destruct (differentiable_at_directional n f u G (unit_vec p) Hd (supported_unit_vec n p Hp) eps Heps)
    as [d [Hd0 K]].
  specialize (K (d / 2) ltac:(rewrite Rabs_pos_eq; lra)).
  rewrite <- upd_vadd_unit, Hf, dot_unit_vec_r in K by exact Hp.
  rewrite (Rabs_pos_eq (d / 2)) in K by lra.
  replace (f u + c * (u p + d / 2 - u p) - f u - d / 2 * G p) with (d / 2 * (c - G p)) in K by ring.
  rewrite Rabs_mult, (Rabs_pos_eq (d / 2)) in K by lra.
  rewrite <- Rabs_Ropp; replace (- (G p - c)) with (c - G p) by ring.
  apply Rmult_le_reg_l with (d / 2); lra.
Qed.

Lemma st_bias_neuron_at sn w k p : st_bias_neuron sn k p -> st_bias_at sn w k p.
Proof.
  intros (Hp & Hk & Hj); split; [exact Hp | split].
  - apply (partial_of_affine _ (c1_g (st_tau sn k)) (st_point sn w k) _ p 1
             (c1_diff _ _ (st_tau sn k) _)); [lia|].
    intros t; rewrite Hk; ring.
  - intros j Hjn Hjk; apply (partial_of_affine _ (c1_g (st_tau sn j)) (st_point sn w j) _ p 0
                               (c1_diff _ _ (st_tau sn j) _)); [lia|].
    intros t; rewrite (Hj j Hjn Hjk); ring.
Qed.

(** * Perturbable neurons of the linearised network *)

Lemma dot_upd_split n a v p : (p < n)%nat -> dot n a v = a p * v p + dot n (upd a p 0) v.
Proof.
  induction n as [|n IH]; intros Hp; [lia|]; rewrite !dot_S.
  destruct (Nat.eq_dec p n) as [->|Hne].
  - rewrite Vec.upd_same, (dot_ext n a (upd a n 0) v v); [ring | |reflexivity].
    intros i Hi; rewrite upd_other by lia; reflexivity.
  - rewrite IH by lia; rewrite (upd_other a p 0 n) by lia; ring.
Qed.

Lemma lin_perturbable sn w k p :
  (k < st_N sn)%nat -> (p < st_W sn)%nat -> st_dw sn w k p <> 0 ->
  (forall j, (j < st_N sn)%nat -> j <> k -> st_dw sn w j p = 0) ->
  perturbable (net_lin (lin_c1 sn w) w) w k.
Proof.
  intros Hk Hp Hne H0.
  exists p, (EConst (st_dw sn w k p)),
    (EAdd (EConst (lin_const sn w k))
          (EAdd (lin_params (upd (st_dw sn w k) p 0) (st_W sn)) (lin_out (st_dz sn w k) k))).
  split; [|unfold excl_coeff; simpl; exact Hne].
  assert (HN : n_size (net_lin (lin_c1 sn w) w) = st_N sn) by apply lin_net_size.
  repeat split.
  - exact Hp.
  - rewrite HN; exact Hk.
  - intros j Hj Hjk; rewrite HN in Hj.
    change (tau (net_lin (lin_c1 sn w) w) j) with (tau (lin_net sn w) j).
    rewrite lin_tau_nth by exact Hj; unfold lin_tau; simpl.
    intros [[]|[H|H]]; [apply lin_params_occurs in H; destruct H as [_ H]; apply H, H0; auto|].
    apply lin_out_no_param in H; exact H.
  - apply lin_out_no_param.
  - simpl; tauto.
  - simpl; intros [[]|[H|H]]; [apply lin_params_occurs in H; destruct H as [_ H]; apply H, Vec.upd_same|].
    apply lin_out_no_param in H; exact H.
  - intros v z; change (tau (net_lin (lin_c1 sn w) w) k) with (tau (lin_net sn w) k).
    rewrite lin_tau_nth by exact Hk; rewrite eval_lin_tau; simpl.
    rewrite eval_lin_params, eval_lin_out, (dot_upd_split _ _ v p Hp); ring.
Qed.

(** * The theorems *)

Section Theorems.
Variable sn : st_network.
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

(* T5(b): not NS(w) => f differentiable at w with gradient AD_D f(w) *)
Theorem T5b_st_not_NS_differentiable (D : nat -> R) (w : vec) :
  ~ st_NS sn D w -> differentiable_at W (st_eval sn) w (st_ad sn D w).
Proof.
  intros Hns; apply (st_differentiable_at_iff sn w).
  apply (T5b_c1_not_NS_differentiable (lin_c1 sn w) (lin_wf_neurons sn w) D w).
  rewrite <- st_NS_iff; exact Hns.
Qed.

Lemma st_kink_neurons_spec w k :
  In k (st_kink_neurons sn w) -> (k < N)%nat /\ In (st_preact sn w k) (kinks (st_sigma sn k)).
Proof.
  unfold st_kink_neurons; rewrite filter_In, in_seq; intros [Hk H].
  destruct (in_dec Req_EM_T (st_preact sn w k) (kinks (st_sigma sn k))); [split; [lia | assumption] | discriminate].
Qed.

(* T5(c): NS(w) => not differentiable, when the topmost kink neuron with a
   non-zero adjoint has a parameter entering it, and no other neuron, to
   first order at w *)
Theorem T5c_st_NS_not_differentiable (D : nat -> R) (w : vec) :
  st_NS sn D w ->
  (forall k, In k (st_kink_neurons sn w) -> st_zbar sn D w k <> 0 ->
     (forall j, In j (st_kink_neurons sn w) -> (k < j)%nat -> st_zbar sn D w j = 0) ->
     exists p, (p < W)%nat /\ st_dw sn w k p <> 0 /\
       forall j, (j < N)%nat -> j <> k -> st_dw sn w j p = 0) ->
  ~ differentiable W (st_eval sn) w.
Proof.
  intros Hns Hpert Hd; apply (st_differentiable_iff sn w) in Hd; revert Hd.
  apply (T5c_c1_NS_not_differentiable (lin_c1 sn w) (lin_wf_neurons sn w) D w).
  - apply st_NS_iff, Hns.
  - intros k Hk Hz Htop.
    change (kink_neurons (cn_net (lin_c1 sn w)) w) with (kink_neurons (lin_net sn w) w) in Hk, Htop.
    rewrite lin_kink_neurons in Hk, Htop.
    destruct (Hpert k Hk Hz Htop) as [p [Hp [Hne H0]]].
    apply (lin_perturbable sn w k p); [apply (st_kink_neurons_spec w k Hk) | exact Hp | exact Hne | exact H0].
Qed.

(* T3 with own biases at w for the kinked neurons *)
Theorem T3_st_ndf_iff_NS_at (D : nat -> R) (w : vec) :
  (forall k, (k < N)%nat -> kinks (st_sigma sn k) <> [] -> exists p, st_bias_at sn w k p) ->
  ~ differentiable W (st_eval sn) w <-> st_NS sn D w.
Proof.
  intros Hb; split.
  - intros Hnd; apply NNPP; intros Hns; apply Hnd.
    exists (st_ad sn D w); apply T5b_st_not_NS_differentiable, Hns.
  - intros Hns; apply (T5c_st_NS_not_differentiable D w Hns).
    intros k Hk _ _; destruct (st_kink_neurons_spec w k Hk) as [HkN Hin].
    destruct (Hb k HkN) as [p (Hp & H1 & H0)]; [intros E; rewrite E in Hin; exact Hin|].
    exists p; split; [exact Hp | split; [rewrite H1; lra | exact H0]].
Qed.

(* T1 with own biases at w for the kinked neurons *)
Theorem T1_st_ad_correct_at (D : nat -> R) (w G : vec) :
  (forall k, (k < N)%nat -> kinks (st_sigma sn k) <> [] -> exists p, st_bias_at sn w k p) ->
  differentiable_at W (st_eval sn) w G ->
  forall p, (p < W)%nat -> st_ad sn D w p = G p.
Proof.
  intros Hb Hd p Hp.
  assert (Hns : ~ st_NS sn D w).
  { intros Hns; apply (proj2 (T3_st_ndf_iff_NS_at D w Hb)) in Hns; apply Hns; exists G; exact Hd. }
  exact (differentiable_at_unique _ _ w _ _ (T5b_st_not_NS_differentiable D w Hns) Hd p Hp).
Qed.

Hypothesis Hb : st_bias_network sn.

Lemma st_bias_network_at w :
  forall k, (k < N)%nat -> kinks (st_sigma sn k) <> [] -> exists p, st_bias_at sn w k p.
Proof.
  intros k Hk Hkink; destruct (Hb k Hk Hkink) as [p Hp]; exists p; apply st_bias_neuron_at, Hp.
Qed.

(* T3 for smooth-tau bias networks: not differentiable iff NS, for every D *)
Theorem T3_st_ndf_iff_NS (D : nat -> R) (w : vec) :
  ~ differentiable W (st_eval sn) w <-> st_NS sn D w.
Proof. apply T3_st_ndf_iff_NS_at, st_bias_network_at. Qed.

(* T1 for smooth-tau bias networks: AD_D is the gradient wherever f is
   differentiable, for every D *)
Theorem T1_st_ad_correct (D : nat -> R) (w G : vec) :
  differentiable_at W (st_eval sn) w G ->
  forall p, (p < W)%nat -> st_ad sn D w p = G p.
Proof. apply T1_st_ad_correct_at, st_bias_network_at. Qed.

End Theorems.
