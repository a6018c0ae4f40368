(* T6 of THEORY.md section 8.1 (mini-batch losses; issue 10, item 8), first
   part: the batched T2 bound, and the refutation of T6 as conjectured.
   - Counting: the bias p_k of base neuron k enters each of the B copies of k
     with coefficient 1, so for fixed other coordinates at most B m_k values
     of p_k put a copy of k on one of its m_k kinks; points with no kinked
     copy are points of differentiability (C1 loss, C1Output.v).  Hence
     |ndf_M(L)| <= B n |M|^(W-1).
   - Counterexample: one base neuron y = b + x with an activation a having
     two kinks c1 <> c2, the batch x_1 = c1, x_2 = c2, the linear loss
     L = zeta_1 z_1 + zeta_2 z_2 with zeta_i = +-1 / (a'_+(c_i) - a'_-(c_i)).
     At b = 0 both copies sit on a kink and the slope jumps cancel, so L is
     differentiable, with derivative zeta_1 a'_-(c1) + zeta_2 a'_-(c2); AD with
     the choices D(c_i) = a'_-(c_i) + theta_i (a'_+(c_i) - a'_-(c_i)) returns
     that plus theta_1 - theta_2.  So T6 fails whenever the choice is not
     "theta-uniform" over the kinks of one activation; for hardtanh with
     PyTorch's D = 0 at both kinks (theta = 0 at -1, theta = 1 at 1):
     L(b) = hardtanh(b - 1) + hardtanh(b + 1) = b near 0, AD gives 0. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation ActDiff Network AD NoKink Counting T2
  C1Output Batch.
Import ListNotations.
Open Scope R_scope.

(** * The batched T2 bound *)

Section Count.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.

Lemma batch_copy_bias_shift (c : nat) : (c < n_size bnet)%nat ->
  exists p, (p < n_params bnet)%nat /\ bias_shift (fun w => preact bnet w c) p.
Proof.
  intros Hc; unfold bnet in Hc; rewrite batch_size in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  destruct (Hb k Hk) as [p Hp]; destruct (Hp i Hi) as [r He].
  exists p; split; [exact (proj1 He)|].
  intros w t; unfold bnet, N in *; rewrite (batch_bias_preact net B xs Hwf i k p r w t Hi Hk He).
  ring.
Qed.

Lemma batch_kink_total :
  list_sum (map (fun c => length (kinks (sigma bnet c))) (seq 0 (n_size bnet))) =
  (B * kink_total net)%nat.
Proof.
  unfold kink_total; rewrite <- list_sum_copies; fold N.
  unfold bnet; rewrite batch_size; f_equal; apply map_ext_in; intros c Hc; apply in_seq in Hc.
  destruct (copy_decompose N B c ltac:(lia)) as [i [k [Hi [Hk ->]]]].
  rewrite batch_sigma, copy_mod by assumption; reflexivity.
Qed.

(* no kinked copy: L is differentiable there *)
Lemma batch_ndf_kinked (w : vec) :
  ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) w ->
  exists c, (c < n_size bnet)%nat /\ is_kink (sigma bnet c) (preact bnet w c).
Proof.
  intros Hnd.
  assert (Hwfb : wf_neurons bnet) by (apply batch_wf, Hwf).
  assert (Hd : ~ differentiable (n_params net) (net_eval (net_lin (batch_net net B xs loss) w)) w).
  { intros Hd; apply Hnd; exact (proj2 (c1_differentiable_iff (batch_net net B xs loss) Hwfb w) Hd). }
  apply (not_differentiable_kink (net_lin (batch_net net B xs loss) w)) in Hd; [|apply wf_net_lin, Hwfb].
  rewrite kink_neurons_net_lin in Hd; cbn [cn_net batch_net] in Hd; fold bnet in Hd.
  destruct (kink_neurons bnet w) as [|c l] eqn:Hl; [congruence|].
  exists c; apply kink_neurons_spec; fold bnet; rewrite Hl; now left.
Qed.

(* THEORY.md 8.1: |ndf_M(L)| <= B n |M|^(W-1) *)
Theorem T6_batch_count_bound (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= B * kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros HM; eapply Nat.le_trans.
  - apply (count_le _ (fun u => exists c, (c < n_size bnet)%nat /\
                                   is_kink (sigma bnet c) (preact bnet (word_vec u) c))).
    intros u _; apply batch_ndf_kinked.
  - eapply Nat.le_trans;
      [apply (kink_count_bound_abstract M (n_params net) (n_size bnet) (sigma bnet)
                (fun c w => preact bnet w c) HM batch_copy_bias_shift)|].
    rewrite batch_kink_total; lia.
Qed.

End Count.

(** * A differentiable function of one parameter *)

Lemma differentiable_at_dim1 (f : vec -> R) (w : vec) (l : R) :
  derivable_pt_lim (fun t => f (upd w 0 t)) (w 0%nat) l -> differentiable_at 1 f w (fun _ => l).
Proof.
  intros H eps Heps.
  destruct (derivable_pt_lim_estimate _ _ _ H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros h Hs Hn.
  assert (Hv : vadd w h = upd w 0 (w 0%nat + h 0%nat)).
  { apply functional_extensionality; intros i; unfold vadd, upd.
    destruct (Nat.eq_dec i 0) as [->|Hi]; [reflexivity|]; rewrite Hs by lia; ring. }
  assert (Hnorm : norm_max 1 h = Rabs (h 0%nat)).
  { rewrite norm_max_S, norm_max_0; apply Rmax_right, Rabs_pos. }
  rewrite Hnorm in Hn |- *; rewrite Hv, dot_S, dot_0.
  specialize (K (h 0%nat) Hn); rewrite upd_id in K.
  replace (0 + l * h 0%nat) with (l * h 0%nat) by ring; exact K.
Qed.

(** * The counterexample family *)

(* one neuron y = b + x (b = parameter 0) *)
Definition T6_base (a : activation) : network :=
  mk_net 1 (fun _ => 0) [(EAdd (EParam 0) (EInput 0), a)] (EConst 0).

(* the batch x_0 = c1, x_1 = c2 *)
Definition T6_xs (c1 c2 : R) : nat -> nat -> R :=
  fun i _ => if Nat.eq_dec i 0 then c1 else c2.

(* the batched network with the linear loss zeta_0 z_0 + zeta_1 z_1 *)
Definition T6_net (a : activation) (c1 c2 : R) (zeta : vec) : network :=
  with_out (batch_neurons (T6_base a) 2 (T6_xs c1 c2)) (lin_out zeta 2).

Section Example.
Variables (a : activation) (c1 c2 : R) (zeta : vec).
Let bn := T6_net a c1 c2 zeta.
Let bnet := batch_neurons (T6_base a) 2 (T6_xs c1 c2).

Lemma T6_base_wf : wf_neurons (T6_base a).
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split; [intros j Hj; compute in Hj; tauto | intros p Hp; compute in Hp; simpl; lia].
Qed.

Lemma T6_bias : batch_bias (T6_base a) 2 (T6_xs c1 c2).
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 0%nat; intros i Hi; exists (EInput 0); repeat split.
  - simpl; lia.
  - unfold n_size; simpl; lia.
  - intros j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros w z; simpl; ring.
Qed.

Lemma T6_net_wf : wf bn.
Proof.
  apply wf_with_out; [apply batch_wf, T6_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma T6_size : n_size bn = 2%nat.
Proof. reflexivity. Qed.

Lemma T6_sigma (i : nat) : (i < 2)%nat -> sigma bn i = a.
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma T6_tau (i : nat) : (i < 2)%nat ->
  tau bn i = EAdd (EParam 0) (EConst (if Nat.eq_dec i 0 then c1 else c2)).
Proof. intros Hi; destruct i as [|[|i]]; [reflexivity | reflexivity | lia]. Qed.

Lemma T6_preact (w : vec) (i : nat) : (i < 2)%nat ->
  preact bn w i = w 0%nat + (if Nat.eq_dec i 0 then c1 else c2).
Proof.
  intros Hi; unfold bn, T6_net; rewrite preact_with_out.
  replace i with (i * 1 + 0)%nat at 1 by lia.
  rewrite batch_preact by (exact T6_base_wf || lia || (unfold n_size; simpl; lia)).
  reflexivity.
Qed.

Lemma T6_post (w : vec) (i : nat) : (i < 2)%nat ->
  post bn w i = act_eval a (w 0%nat + (if Nat.eq_dec i 0 then c1 else c2)).
Proof.
  intros Hi; unfold post; rewrite T6_preact, T6_sigma by exact Hi; reflexivity.
Qed.

Lemma T6_eval (w : vec) :
  net_eval bn w = zeta 0%nat * act_eval a (w 0%nat + c1) + zeta 1%nat * act_eval a (w 0%nat + c2).
Proof.
  unfold net_eval; change (n_out bn) with (lin_out zeta 2); rewrite eval_lin_out, !dot_S, dot_0.
  rewrite !zvec_lt by (rewrite T6_size; lia); rewrite !T6_post by lia; simpl; ring.
Qed.

(* AD: the adjoint of copy i is zeta_i, the bias derivative 1 *)
Lemma T6_ad (D : nat -> R) (w : vec) :
  ad bn D w 0 = zeta 0%nat * dchoice bn D w 0 + zeta 1%nat * dchoice bn D w 1.
Proof.
  assert (Hz : forall k, (k < 2)%nat -> zbar bn D w k = zeta k).
  { intros k Hk; rewrite zbar_eq, T6_size.
    change (n_out bn) with (lin_out zeta 2).
    rewrite eval_dneuron_lin_out by exact Hk.
    rewrite sum_list_map_zero; [ring|]; intros j Hj; apply in_seq in Hj.
    rewrite dneuron_not_occurs; [ring|].
    rewrite T6_tau by lia; simpl; tauto. }
  rewrite ad_eq, T6_size; change (n_out bn) with (lin_out zeta 2).
  rewrite eval_dparam_lin_out; unfold sum_list; simpl.
  rewrite !ybar_eq, !Hz by (rewrite ?T6_size; lia).
  ring.
Qed.

(* L is differentiable at b = 0 when the slope jumps cancel *)
Lemma T6_differentiable :
  is_kink a c1 -> is_kink a c2 ->
  zeta 0%nat * (slope_right a c1 - slope_left a c1) + zeta 1%nat * (slope_right a c2 - slope_left a c2) = 0 ->
  differentiable_at 1 (net_eval bn) vzero
    (fun _ => zeta 0%nat * slope_left a c1 + zeta 1%nat * slope_left a c2).
Proof.
  intros _ _ Hcancel; apply differentiable_at_dim1.
  destruct (act_eval_left_pieces a c1) as [dl1 [Hdl1 L1]].
  destruct (act_eval_left_pieces a c2) as [dl2 [Hdl2 L2]].
  destruct (act_eval_right_pieces a c1) as [dr1 [Hdr1 R1]].
  destruct (act_eval_right_pieces a c2) as [dr2 [Hdr2 R2]].
  set (d := Rmin (Rmin dl1 dl2) (Rmin dr1 dr2)).
  assert (Hd : 0 < d) by (unfold d; repeat apply Rmin_glb_lt; assumption).
  generalize (Rmin_l (Rmin dl1 dl2) (Rmin dr1 dr2)) (Rmin_r (Rmin dl1 dl2) (Rmin dr1 dr2))
    (Rmin_l dl1 dl2) (Rmin_r dl1 dl2) (Rmin_l dr1 dr2) (Rmin_r dr1 dr2); fold d; intros.
  set (gl := fun t => zeta 0%nat * piece a (left_piece a c1) (t + c1) +
                      zeta 1%nat * piece a (left_piece a c2) (t + c2)).
  set (gr := fun t => zeta 0%nat * piece a (right_piece a c1) (t + c1) +
                      zeta 1%nat * piece a (right_piece a c2) (t + c2)).
  assert (Hf : forall t, net_eval bn (upd vzero 0 t) = zeta 0%nat * act_eval a (t + c1) + zeta 1%nat * act_eval a (t + c2)).
  { intros t; rewrite T6_eval, Vec.upd_same; reflexivity. }
  assert (Hshift : forall (u : R -> R) (c l : R), derivable_pt_lim u c l ->
            derivable_pt_lim (fun t => u (t + c)) 0 l).
  { intros u c l Hu eps He; destruct (Hu eps He) as [del K]; exists del; intros h Hh0 Hh.
    replace (0 + h + c) with (c + h) by ring; replace (0 + c) with c by ring; apply K; assumption. }
  assert (Hpair : forall i j, derivable_pt_lim
            (fun t => zeta 0%nat * piece a i (t + c1) + zeta 1%nat * piece a j (t + c2)) 0
            (zeta 0%nat * dpiece a i c1 + zeta 1%nat * dpiece a j c2)).
  { intros i j.
    apply (derivable_pt_lim_plus (mult_real_fct (zeta 0%nat) (fun t => piece a i (t + c1)))
                                 (mult_real_fct (zeta 1%nat) (fun t => piece a j (t + c2))));
      apply derivable_pt_lim_scal, Hshift, piece_derivable. }
  rewrite vzero_0 || idtac.
  change (vzero 0%nat) with 0.
  apply (derivable_pt_lim_glue _ gl gr 0 _ d Hd).
  - intros y Hy; rewrite Hf; unfold gl; rewrite L1, L2 by lra; reflexivity.
  - intros y Hy; rewrite Hf; unfold gr; rewrite R1, R2 by lra; reflexivity.
  - rewrite Hf; unfold gr; rewrite !Rplus_0_l, !right_piece_at; reflexivity.
  - apply Hpair.
  - replace (zeta 0%nat * slope_left a c1 + zeta 1%nat * slope_left a c2) with
      (zeta 0%nat * dpiece a (right_piece a c1) c1 + zeta 1%nat * dpiece a (right_piece a c2) c2);
      [apply Hpair|].
    change (dpiece a (right_piece a c1) c1) with (slope_right a c1).
    change (dpiece a (right_piece a c2) c2) with (slope_right a c2); lra.
Qed.

End Example.

(** * T6 fails for choices that are not theta-uniform *)

(* theta of a choice d at a kink c: d = a'_-(c) + theta (a'_+(c) - a'_-(c)) *)
Definition theta_of (a : activation) (d c : R) : R :=
  (d - slope_left a c) / (slope_right a c - slope_left a c).

(* For every activation with two kinks at which the choice function Da has
   different thetas, a batched bias network (one bias neuron, two examples,
   linear loss) is differentiable at w = 0 where AD with that choice is not
   the gradient. *)
Theorem T6_needs_theta_uniform (a : activation) (Da : R -> R) (c1 c2 : R) :
  is_kink a c1 -> is_kink a c2 -> theta_of a (Da c1) c1 <> theta_of a (Da c2) c2 ->
  exists zeta g,
    batch_bias (T6_base a) 2 (T6_xs c1 c2) /\ wf (T6_net a c1 c2 zeta) /\
    differentiable_at 1 (net_eval (T6_net a c1 c2 zeta)) vzero g /\
    ad (T6_net a c1 c2 zeta) (fun c => Da (preact (T6_net a c1 c2 zeta) vzero c)) vzero 0 <> g 0%nat.
Proof.
  intros Hk1 Hk2 Hth.
  assert (H1 : slope_right a c1 - slope_left a c1 <> 0) by (destruct Hk1; lra).
  assert (H2 : slope_right a c2 - slope_left a c2 <> 0) by (destruct Hk2; lra).
  set (zeta := fun i : nat => if Nat.eq_dec i 0 then / (slope_right a c1 - slope_left a c1)
                              else - / (slope_right a c2 - slope_left a c2)).
  exists zeta, (fun _ => zeta 0%nat * slope_left a c1 + zeta 1%nat * slope_left a c2).
  split; [apply T6_bias|]; split; [apply T6_net_wf|]; split.
  - apply T6_differentiable; [exact Hk1 | exact Hk2|]; unfold zeta; simpl; field; auto.
  - rewrite T6_ad; unfold dchoice; rewrite !T6_preact, !T6_sigma by lia; simpl.
    unfold vzero; rewrite !Rplus_0_l, !act_deriv_choice_kink by assumption.
    unfold theta_of in Hth; unfold zeta; simpl; intros Heq; apply Hth.
    set (d1 := slope_right a c1 - slope_left a c1) in *; set (d2 := slope_right a c2 - slope_left a c2) in *.
    unfold Rdiv; replace ((Da c1 - slope_left a c1) * / d1) with (/ d1 * Da c1 - / d1 * slope_left a c1) by ring.
    replace ((Da c2 - slope_left a c2) * / d2) with (/ d2 * Da c2 - / d2 * slope_left a c2) by ring.
    revert Heq; rewrite !Ropp_mult_distr_l_reverse; intros Heq; lra.
Qed.

(** * The hardtanh instance (PyTorch's choice 0 at both kinks) *)

Lemma hardtanh_slopes : slope_left hardtanh (-1) = 0 /\ slope_right hardtanh (-1) = 1 /\
                        slope_left hardtanh 1 = 1 /\ slope_right hardtanh 1 = 0.
Proof.
  unfold slope_left, slope_right, left_piece, right_piece, nbelow, nle; simpl.
  unfold pl_dpiece; solve_dec; simpl; lra.
Qed.

Lemma hardtanh_is_kink (c : R) : c = -1 \/ c = 1 -> is_kink hardtanh c.
Proof. intros Hc; rewrite <- kinks_spec, hardtanh_kinks; simpl; destruct Hc as [->| ->]; [left|right; left]; reflexivity. Qed.

(* t6.md: base neuron y = x + b (hardtanh), batch x = -1, 1, loss
   L = f(x_1) + f(x_2) = hardtanh(b - 1) + hardtanh(b + 1).  L is differentiable
   at b = 0 with L'(0) = 1 (L(b) = b near 0), both copies are on a kink, and
   AD with PyTorch's hardtanh'(+-1) = 0 returns 0. *)
Theorem T6_fails_multi_kink :
  let bn := T6_net hardtanh (-1) 1 (fun _ => 1) in
  batch_bias (T6_base hardtanh) 2 (T6_xs (-1) 1) /\ wf bn /\
  (forall b, net_eval bn (upd vzero 0 b) = act_eval hardtanh (b - 1) + act_eval hardtanh (b + 1)) /\
  differentiable_at 1 (net_eval bn) vzero (fun _ => 1) /\
  (forall c, In c (kink_neurons bn vzero) <-> (c < 2)%nat) /\
  ad bn (fun _ => 0) vzero 0 = 0.
Proof.
  intros bn; destruct hardtanh_slopes as (Hl1 & Hr1 & Hl2 & Hr2).
  split; [apply T6_bias|]; split; [apply T6_net_wf|]; split; [|split; [|split]].
  - intros b; unfold bn; rewrite T6_eval, Vec.upd_same; replace (b + -1) with (b - 1) by ring; ring.
  - eapply differentiable_at_grad_ext; [|apply T6_differentiable].
    + intros p _; cbv beta; rewrite Hl1, Hl2; ring.
    + apply hardtanh_is_kink; tauto.
    + apply hardtanh_is_kink; tauto.
    + rewrite Hl1, Hr1, Hl2, Hr2; ring.
  - intros c; rewrite kink_neurons_spec; unfold bn; rewrite T6_size; split; [tauto|].
    intros Hc; split; [exact Hc|].
    change (sigma (T6_net hardtanh (-1) 1 (fun _ => 1)) c)
      with (sigma (batch_neurons (T6_base hardtanh) 2 (T6_xs (-1) 1)) c).
    replace c with (c * 1 + 0)%nat at 1 by lia.
    rewrite batch_sigma by (lia || (unfold n_size; simpl; lia)); cbn [sigma nth snd T6_base n_neurons].
    rewrite T6_preact by exact Hc; unfold vzero; apply hardtanh_is_kink.
    destruct (Nat.eq_dec c 0); [left | right]; ring.
  - unfold bn; rewrite T6_ad; unfold dchoice; rewrite !T6_preact by lia; simpl.
    rewrite !act_deriv_choice_kink; [ring| |]; apply hardtanh_is_kink; unfold vzero; [right | left]; ring.
Qed.
