(* The hypotheses of T1-T4 (THEORY.md section 5) are satisfiable and their
   conclusions are not vacuous:
   - a 2-layer ReLU MLP with biases (input 1, two relu units, one linear
     output unit) is well formed and a bias network, has a point of NS (so a
     point where it is not differentiable) and a point where it is
     differentiable, and the PyTorch choice relu'(0) = 0 lies between the
     one-sided slopes at every kink neuron of every point;
   - relu is not differentiable at 0 in the sense of Frechet.v;
   - the Clarke subdifferential (Clarke.v) of the one-neuron network
     f(b) = relu(b) at 0 is exactly [0, 1], so 5 is not in it. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet OneSided Activation Network MLP AD Clarke T2 T5b T3 T4.
Import ListNotations.
Open Scope R_scope.

(** * A 2-layer ReLU MLP with biases *)

(* parameters: W1 = (w0, w1), b1 = (w2, w3), W2 = (w4, w5), b2 = w6 *)
Definition nv_layers : list layer := [(2%nat, relu, true); (1%nat, act_id, true)].
Definition nv_mlp : network := mlp [1] nv_layers.

(* the point (0, 0, 0, 0, 1, 0, 0): the first relu unit sits at its kink and
   the output weight reading it is 1 *)
Definition nv_w_ns : vec := fun i => if Nat.eq_dec i 4 then 1 else 0.
Definition nv_w_smooth : vec := fun _ => 1.

Lemma nv_all_biased : all_biased nv_layers.
Proof. intros l [<-|[<-|[]]]; reflexivity. Qed.

Lemma nv_wf : wf nv_mlp.
Proof. apply mlp_wf; unfold n_size; simpl; lia. Qed.

Lemma nv_bias : bias_network nv_mlp.
Proof. apply mlp_bias_network, nv_all_biased. Qed.

Lemma nv_params : n_params nv_mlp = 7%nat.
Proof. reflexivity. Qed.

Lemma nv_size : n_size nv_mlp = 3%nat.
Proof. reflexivity. Qed.

Lemma nv_sigma0 : sigma nv_mlp 0 = relu. Proof. reflexivity. Qed.
Lemma nv_sigma1 : sigma nv_mlp 1 = relu. Proof. reflexivity. Qed.
Lemma nv_sigma2 : sigma nv_mlp 2 = act_id. Proof. reflexivity. Qed.

Lemma nv_tau0 : tau nv_mlp 0 = EAdd (EAdd (EMul (EParam 0) (EInput 0)) (EConst 0)) (EParam 2).
Proof. reflexivity. Qed.
Lemma nv_tau1 : tau nv_mlp 1 = EAdd (EAdd (EMul (EParam 1) (EInput 0)) (EConst 0)) (EParam 3).
Proof. reflexivity. Qed.
Lemma nv_tau2 : tau nv_mlp 2 =
  EAdd (EAdd (EMul (EParam 4) (ENeuron 0)) (EAdd (EMul (EParam 5) (ENeuron 1)) (EConst 0))) (EParam 6).
Proof. reflexivity. Qed.
Lemma nv_out : n_out nv_mlp = ENeuron 2.
Proof. reflexivity. Qed.

Lemma nv_preact0 (w : vec) : preact nv_mlp w 0 = w 0%nat + w 2%nat.
Proof. unfold preact; rewrite nv_tau0; simpl; ring. Qed.

Lemma nv_preact1 (w : vec) : preact nv_mlp w 1 = w 1%nat + w 3%nat.
Proof. unfold preact; rewrite nv_tau1; simpl; ring. Qed.

Lemma nv_preact2 (w : vec) :
  preact nv_mlp w 2 = w 4%nat * Rmax 0 (w 0%nat + w 2%nat) + w 5%nat * Rmax 0 (w 1%nat + w 3%nat) + w 6%nat.
Proof.
  unfold preact; rewrite nv_tau2; cbn [eval]; rewrite !zvals_lt by lia; unfold post.
  rewrite nv_sigma0, nv_sigma1, nv_preact0, nv_preact1, !relu_eval; ring.
Qed.

(* f(w) = w4 relu(w0 + w2) + w5 relu(w1 + w3) + w6 *)
Lemma nv_eval (w : vec) :
  net_eval nv_mlp w =
  w 4%nat * Rmax 0 (w 0%nat + w 2%nat) + w 5%nat * Rmax 0 (w 1%nat + w 3%nat) + w 6%nat.
Proof.
  unfold net_eval; rewrite nv_out; cbn [eval]; rewrite zvec_lt by (rewrite nv_size; lia).
  unfold post; rewrite nv_sigma2, act_id_eval; apply nv_preact2.
Qed.

(* neuron 0 is a kink neuron at nv_w_ns with adjoint 1 *)
Lemma nv_kink0 : In 0%nat (kink_neurons nv_mlp nv_w_ns).
Proof.
  apply kink_neurons_spec; rewrite nv_size, nv_sigma0, relu_is_kink, nv_preact0.
  split; [lia | unfold nv_w_ns; simpl; ring].
Qed.

Lemma nv_zbar0 (D : nat -> R) : zbar nv_mlp D nv_w_ns 0 = 1.
Proof.
  assert (Hz2 : zbar nv_mlp D nv_w_ns 2 = 1).
  { rewrite zbar_eq, nv_out, nv_size; simpl; unfold sum_list; simpl; ring. }
  assert (Hd2 : dchoice nv_mlp D nv_w_ns 2 = 1) by (unfold dchoice; rewrite nv_sigma2; apply act_id_deriv).
  rewrite zbar_eq, nv_out, nv_size; simpl.
  rewrite (ybar_eq nv_mlp D nv_w_ns 2), Hz2, Hd2 by (rewrite nv_size; lia).
  unfold nv_w_ns; simpl; ring.
Qed.

Lemma nv_NS (D : nat -> R) : NS nv_mlp D nv_w_ns.
Proof. exists 0%nat; split; [exact nv_kink0 | rewrite nv_zbar0; lra]. Qed.

Lemma nv_not_differentiable : ~ differentiable 7 (net_eval nv_mlp) nv_w_ns.
Proof. exact (T3_ns_not_differentiable nv_mlp (fun _ => 0) nv_w_ns nv_wf nv_bias (nv_NS _)). Qed.

(* no kink neuron at (1, ..., 1): f is differentiable there, AD is its gradient *)
Lemma nv_no_kinks_smooth : kink_neurons nv_mlp nv_w_smooth = [].
Proof.
  destruct (kink_neurons nv_mlp nv_w_smooth) as [|k l] eqn:Hk; [reflexivity|exfalso].
  assert (Hin : In k (kink_neurons nv_mlp nv_w_smooth)) by (rewrite Hk; now left).
  apply kink_neurons_spec in Hin as [Hk3 Hkink]; rewrite nv_size in Hk3.
  destruct k as [|[|[|k]]]; try lia.
  - rewrite nv_sigma0, relu_is_kink, nv_preact0 in Hkink; unfold nv_w_smooth in Hkink; lra.
  - rewrite nv_sigma1, relu_is_kink, nv_preact1 in Hkink; unfold nv_w_smooth in Hkink; lra.
  - rewrite nv_sigma2, <- kinks_spec, act_id_kinks in Hkink; exact Hkink.
Qed.

Lemma nv_differentiable_smooth (D : nat -> R) :
  differentiable_at 7 (net_eval nv_mlp) nv_w_smooth (ad nv_mlp D nv_w_smooth).
Proof.
  apply (T5b_not_NS_differentiable nv_mlp D nv_w_smooth nv_wf).
  intros [k [Hk _]]; rewrite nv_no_kinks_smooth in Hk; exact Hk.
Qed.

(* relu'(0) = 0 is between the one-sided slopes at every kink neuron of every w *)
Lemma nv_choice_between (w : vec) (k : nat) :
  In k (kink_neurons nv_mlp w) ->
  Rmin (slope_left (sigma nv_mlp k) (preact nv_mlp w k)) (slope_right (sigma nv_mlp k) (preact nv_mlp w k))
    <= 0 <=
  Rmax (slope_left (sigma nv_mlp k) (preact nv_mlp w k)) (slope_right (sigma nv_mlp k) (preact nv_mlp w k)).
Proof.
  intros Hk; apply kink_neurons_spec in Hk as [Hk3 Hkink]; rewrite nv_size in Hk3.
  destruct k as [|[|[|k]]]; try lia.
  - rewrite nv_sigma0 in *; apply relu_is_kink in Hkink; rewrite Hkink.
    destruct relu_slopes_0 as [-> ->]; unfold Rmin, Rmax; destruct Rle_dec; lra.
  - rewrite nv_sigma1 in *; apply relu_is_kink in Hkink; rewrite Hkink.
    destruct relu_slopes_0 as [-> ->]; unfold Rmin, Rmax; destruct Rle_dec; lra.
  - rewrite nv_sigma2, <- kinks_spec, act_id_kinks in Hkink; destruct Hkink.
Qed.

(** * relu is not differentiable at 0 *)

Theorem relu_not_differentiable_at_0 : ~ differentiable 1 (fun w => Rmax 0 (w 0%nat)) vzero.
Proof.
  apply (one_sided_differ_not_differentiable 1 _ vzero 0 1 0); [lia | | | lra].
  - apply (right_deriv_ext _ (fun t => act_eval relu (0 + t))).
    { intros t; rewrite relu_eval; unfold upd, vzero; simpl; reflexivity. }
    assert (H := act_right_deriv relu 0); rewrite (proj2 relu_slopes_0) in H.
    exact (right_deriv_shift _ _ _ H).
  - apply (left_deriv_ext _ (fun t => act_eval relu (0 + t))).
    { intros t; rewrite relu_eval; unfold upd, vzero; simpl; reflexivity. }
    assert (H := act_left_deriv relu 0); rewrite (proj1 relu_slopes_0) in H.
    exact (left_deriv_shift _ _ _ H).
Qed.

(** * The Clarke subdifferential of relu at 0 *)

(* the one-neuron network f(b) = relu(b) *)
Definition relu_neuron : network := mk_net 1 (fun _ => 0) [(EParam 0, relu)] (ENeuron 0).

Lemma relu_neuron_eval (w : vec) : net_eval relu_neuron w = Rmax 0 (w 0%nat).
Proof.
  unfold net_eval; change (n_out relu_neuron) with (ENeuron 0); cbn [eval].
  rewrite zvec_lt by (unfold n_size; simpl; lia); unfold post.
  change (sigma relu_neuron 0) with relu; rewrite relu_eval; reflexivity.
Qed.

Lemma relu_neuron_wf : wf relu_neuron.
Proof.
  unfold wf, neurons_below, params_below, n_size; simpl; split; [|split].
  - intros k Hk; destruct k as [|k]; [|lia]; simpl; split; [intros j [] | intros p Hp; lia].
  - intros j Hj; lia.
  - intros p [].
Qed.

Lemma relu_neuron_bias : bias_network relu_neuron.
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 0%nat, (EConst 0); unfold exclusive_param_with, tau, n_size; simpl.
  split; [lia|]; split; [lia|]; split; [intros j Hj Hj0; lia|].
  split; [tauto|]; split; [tauto|]; split; [tauto|]; intros w z; ring.
Qed.

Lemma relu_slope_right_01 (x : R) : 0 <= slope_right relu x <= 1.
Proof.
  unfold slope_right, right_piece, nle; simpl; destruct (Rle_dec 0 x); simpl; unfold pl_dpiece; simpl; lra.
Qed.

(* every gradient of relu(b) lies in [0, 1] *)
Lemma relu_neuron_grad_01 (w g : vec) :
  differentiable_at 1 (net_eval relu_neuron) w g -> 0 <= g 0%nat <= 1.
Proof.
  intros Hd; destruct (differentiable_one_sided 1 _ w g 0 Hd ltac:(lia)) as [Hr _].
  assert (Hr' : right_deriv (fun t => net_eval relu_neuron (upd w 0 (w 0%nat + t))) 0
                  (slope_right relu (w 0%nat))).
  { apply (right_deriv_ext _ (fun t => act_eval relu (w 0%nat + t))).
    - intros t; rewrite relu_neuron_eval, relu_eval; unfold upd; simpl; reflexivity.
    - apply right_deriv_shift, act_right_deriv. }
  rewrite (right_deriv_unique _ _ _ _ Hr Hr'); apply relu_slope_right_01.
Qed.

Lemma limit_in_01 (y : R) :
  (forall eps, 0 < eps -> exists x, 0 <= x <= 1 /\ Rabs (x - y) < eps) -> 0 <= y <= 1.
Proof.
  intros H; split; apply Rnot_lt_le; intros Hy.
  - destruct (H (- y)) as [x [Hx Hxy]]; [lra|]; revert Hxy; split_Rabs; lra.
  - destruct (H (y - 1)) as [x [Hx Hxy]]; [lra|]; revert Hxy; split_Rabs; lra.
Qed.

Lemma convex_in_01 (cs : list (R * (nat -> R))) :
  (forall c, In c cs -> 0 <= fst c /\ 0 <= snd c 0%nat <= 1) ->
  0 <= sum_list (map (fun c => fst c * snd c 0%nat) cs) <= sum_list (map fst cs).
Proof.
  induction cs as [|c cs IH]; intros H; unfold sum_list in *; simpl; [lra|].
  destruct (H c (or_introl eq_refl)) as [H1 H2].
  destruct IH as [IH1 IH2]; [intros c' Hc'; apply H; now right|].
  assert (0 <= fst c * snd c 0%nat) by (apply Rmult_le_pos; lra).
  assert (0 <= fst c * (1 - snd c 0%nat)) by (apply Rmult_le_pos; lra).
  split; lra.
Qed.

Lemma in_clarke_ext (net : network) (w g g' : vec) :
  (forall p, (p < n_params net)%nat -> g p = g' p) -> in_clarke net w g -> in_clarke net w g'.
Proof.
  intros Hg [cs [H1 [H2 H3]]]; exists cs; split; [exact H1|]; split; [exact H2|].
  intros p Hp; rewrite <- Hg by exact Hp; apply H3, Hp.
Qed.

(* the Clarke subdifferential of relu(b) at 0 is [0, 1] *)
Theorem relu_clarke_at_0 (g : vec) : in_clarke relu_neuron vzero g <-> 0 <= g 0%nat <= 1.
Proof.
  split.
  - intros [cs [Hcs [H1 Hg]]]; rewrite (Hg 0%nat ltac:(simpl; lia)), <- H1.
    apply convex_in_01; intros c Hc; destruct (Hcs c Hc) as [Hc0 [wn [gn [_ [Hd Hl]]]]].
    split; [exact Hc0|]; apply limit_in_01; intros eps He.
    destruct (Hl 0%nat ltac:(simpl; lia) eps He) as [N HN].
    exists (gn N 0%nat); split; [apply (relu_neuron_grad_01 (wn N)), Hd | apply HN; lia].
  - intros Hg.
    apply (in_clarke_ext _ _ (ad relu_neuron (fun _ => g 0%nat) vzero)).
    + intros p Hp; simpl in Hp; assert (p = 0%nat) as -> by lia.
      rewrite ad_eq; unfold n_size; simpl; unfold sum_list; simpl.
      rewrite (ybar_eq relu_neuron _ vzero 0) by (unfold n_size; simpl; lia).
      rewrite zbar_eq; unfold n_size; simpl; unfold sum_list, dchoice; simpl.
      rewrite act_deriv_choice_kink.
      * ring.
      * apply relu_is_kink; unfold preact, vzero; simpl; reflexivity.
    + apply T4_ad_in_clarke; [exact relu_neuron_wf | exact relu_neuron_bias|].
      intros k Hk; apply kink_neurons_spec in Hk as [Hk Hkink]; unfold n_size in Hk; simpl in Hk.
      assert (k = 0%nat) as -> by lia.
      change (sigma relu_neuron 0) with relu in *; apply relu_is_kink in Hkink; rewrite Hkink.
      destruct relu_slopes_0 as [-> ->]; unfold Rmin, Rmax; destruct Rle_dec; lra.
Qed.

Corollary five_not_in_clarke : ~ in_clarke relu_neuron vzero (fun _ => 5).
Proof. rewrite relu_clarke_at_0; lra. Qed.
