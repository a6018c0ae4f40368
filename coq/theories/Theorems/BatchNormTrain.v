(* Training-mode BatchNorm couples the copies of a mini-batch (THEORY.md
   section 8.1, T6; issue 18, item 3): a counterexample.  Batch of two copies
   with inputs x_1 = 1, x_2 = -1 of one neuron u_i = x_i w + b (b the neuron's
   bias, coefficient 1), normalised with the batch statistics,
   y_i = (u_i - mean u) / sqrt(var u + eps) = +- w / sqrt(w^2 + eps), then
   relu, loss z_1 - z_2.  The bias cancels in y_i (d y_i / d b = 0), so the
   "own bias" hypothesis of T1/T3/T6 cannot hold; the loss is
   relu(phi w) - relu(-phi w) = phi w, differentiable at w = 0 with
   derivative 1/sqrt eps, but both y_i are at relu's kink there and AD with
   PyTorch's relu'(0) = 0 returns 0.  So T6 fails for training-mode
   BatchNorm (AD is wrong at a differentiable point). *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output SmoothTau.
Import ListNotations.
Open Scope R_scope.

(** * Two C1 outputs: a function of one coordinate, a linear form *)

Section Coord.
Variables (W N p : nat) (phi dphi : R -> R).
Hypothesis Hp : (p < W + N)%nat.
Hypothesis Hd : forall x, is_derive phi x (dphi x).
Hypothesis Hc : forall x, continuity_pt dphi x.

Lemma c1_coord_diff u :
  differentiable_at (W + N) (fun u => phi (u p)) u (vscale (dphi (u p)) (unit_vec p)).
Proof.
  apply (differentiable_at_comp_is_derive (W + N) phi (fun v => v p) u (unit_vec p) (dphi (u p)) (Hd _)).
  apply differentiable_at_coord, Hp.
Qed.

Lemma c1_coord_cont u i :
  continuous_at (W + N) (fun u' => vscale (dphi (u' p)) (unit_vec p) i) u.
Proof.
  unfold vscale; apply (continuous_at_mult _ (fun u' => dphi (u' p)) (fun _ => unit_vec p i)).
  - apply (continuous_at_comp _ dphi (fun v => v p)); [apply Hc | apply continuous_at_coord, Hp].
  - apply continuous_at_const.
Qed.

(* u -> phi(u_p) *)
Definition c1_coord : c1_output W N :=
  mk_c1_output W N (fun u => phi (u p)) (fun u => vscale (dphi (u p)) (unit_vec p))
    c1_coord_diff c1_coord_cont.

End Coord.

(* u -> c . u *)
Definition c1_linear (W N : nat) (c : vec) : c1_output W N :=
  mk_c1_output W N (fun u => dot (W + N) c u) (fun _ => c)
    (fun u => differentiable_at_dot (W + N) c u) (fun u i => continuous_at_const (W + N) (c i) u).

(** * The BatchNorm network *)

Section BN.
Variable eps : R.
Hypothesis Heps : 0 < eps.

Definition bn_phi (x : R) : R := x / sqrt (x * x + eps).
Definition bn_dphi (x : R) : R := eps / ((x * x + eps) * sqrt (x * x + eps)).

Lemma bn_q_pos x : 0 < x * x + eps.
Proof. nra. Qed.

Lemma bn_phi_derive x : is_derive bn_phi x (bn_dphi x).
Proof.
  pose proof (bn_q_pos x) as Hq; pose proof (sqrt_lt_R0 _ Hq) as Hs.
  unfold bn_phi, bn_dphi; auto_derive; [lra|].
  assert (E : sqrt (x * x + eps) * sqrt (x * x + eps) = x * x + eps) by (apply sqrt_sqrt; lra).
  revert E Hs; generalize (sqrt (x * x + eps)); intros s E Hs.
  replace eps with (s * s - x * x) by lra.
  field; lra.
Qed.

Lemma bn_dphi_cont x : continuity_pt bn_dphi x.
Proof.
  pose proof (bn_q_pos x) as Hq; pose proof (sqrt_lt_R0 _ Hq) as Hs.
  unfold bn_dphi; apply continuity_pt_div; [apply continuity_pt_const; intros ? ?; reflexivity| |].
  - apply continuity_pt_mult.
    + apply continuity_pt_plus; [apply continuity_pt_mult; apply derivable_continuous_pt, derivable_pt_id|
                                 apply continuity_pt_const; intros ? ?; reflexivity].
    + apply (continuity_pt_comp (fun x => x * x + eps) sqrt).
      * apply continuity_pt_plus; [apply continuity_pt_mult; apply derivable_continuous_pt, derivable_pt_id|
                                   apply continuity_pt_const; intros ? ?; reflexivity].
      * apply continuity_pt_sqrt; lra.
  - apply Rmult_integral_contrapositive; split; lra.
Qed.

Lemma bn_mphi_derive x : is_derive (fun x => - bn_phi x) x (- bn_dphi x).
Proof. apply (is_derive_opp bn_phi), bn_phi_derive. Qed.

Lemma bn_mdphi_cont x : continuity_pt (fun x => - bn_dphi x) x.
Proof. apply continuity_pt_opp, bn_dphi_cont. Qed.

Lemma bn_p0 : (0 < 2 + 2)%nat. Proof. lia. Qed.

(* parameters w (0) and b (1); neurons: the two copies, normalised, relu;
   loss z_1 - z_2 *)
Definition bn_net : st_network :=
  mk_st_network 2 2
    (fun k => if Nat.eq_dec k 0 then c1_coord 2 2 0 bn_phi bn_dphi bn_p0 bn_phi_derive bn_dphi_cont
              else c1_coord 2 2 0 (fun x => - bn_phi x) (fun x => - bn_dphi x) bn_p0 bn_mphi_derive bn_mdphi_cont)
    (fun _ => relu)
    (c1_linear 2 2 (fun i => if Nat.eq_dec i 2 then 1 else if Nat.eq_dec i 3 then -1 else 0)).

(* the training-mode BatchNorm formula: copy i has u_i = x_i w + b, with
   x = (1, -1); y_i = (u_i - mean) / sqrt(var + eps) *)
Definition bn_train (w b : R) (i : nat) : R :=
  let u1 := 1 * w + b in let u2 := -1 * w + b in
  let m := (u1 + u2) / 2 in
  let v := ((u1 - m) * (u1 - m) + (u2 - m) * (u2 - m)) / 2 in
  ((if Nat.eq_dec i 0 then u1 else u2) - m) / sqrt (v + eps).

Lemma bn_train_eq (w b : R) (i : nat) :
  bn_train w b i = (if Nat.eq_dec i 0 then 1 else -1) * bn_phi w.
Proof.
  unfold bn_train, bn_phi; cbv zeta.
  replace (1 * w + b - (1 * w + b + (-1 * w + b)) / 2) with w by field.
  replace (-1 * w + b - (1 * w + b + (-1 * w + b)) / 2) with (- w) by field.
  replace ((w * w + - w * - w) / 2) with (w * w) by field.
  destruct (Nat.eq_dec i 0); field; apply Rgt_not_eq, sqrt_lt_R0; nra.
Qed.

Lemma bn_net_is_batchnorm (u : vec) (i : nat) : (i < 2)%nat ->
  c1_g (st_tau bn_net i) u = bn_train (u 0%nat) (u 1%nat) i.
Proof.
  intros Hi; rewrite bn_train_eq; destruct i as [|[|i]]; simpl; [ring | ring | lia].
Qed.

End BN.

(** * AD is wrong at a differentiable point *)

Section Fails.
Variable eps : R.
Hypothesis Heps : 0 < eps.
Let sn := bn_net eps Heps.

Lemma bn_preact v k : (k < 2)%nat ->
  st_preact sn v k = (if Nat.eq_dec k 0 then 1 else -1) * bn_phi eps (v 0%nat).
Proof.
  intros Hk; unfold st_preact, st_point; destruct k as [|[|k]]; [| |lia]; simpl;
    rewrite pack_lt by lia; ring.
Qed.

Lemma bn_eval v : st_eval sn v = bn_phi eps (v 0%nat).
Proof.
  unfold st_eval; simpl; rewrite !dot_S, dot_0.
  replace (pack 2 v (st_zvec sn v) 2%nat) with (st_zvec sn v 0%nat) by (symmetry; apply (pack_ge 2 v _ 0%nat)).
  replace (pack 2 v (st_zvec sn v) 3%nat) with (st_zvec sn v 1%nat) by (symmetry; apply (pack_ge 2 v _ 1%nat)).
  unfold st_zvec; rewrite !st_zvals_lt by (simpl; lia).
  unfold st_post; rewrite !bn_preact by lia.
  change (st_sigma sn 0%nat) with relu; change (st_sigma sn 1%nat) with relu; rewrite !relu_eval.
  unfold Rmax; destruct (Rle_dec 0 ((if Nat.eq_dec 0 0 then 1 else -1) * bn_phi eps (v 0%nat))),
    (Rle_dec 0 ((if Nat.eq_dec 1 0 then 1 else -1) * bn_phi eps (v 0%nat))); simpl in *; lra.
Qed.

Lemma bn_differentiable :
  differentiable_at 2 (st_eval sn) vzero (vscale (bn_dphi eps 0) (unit_vec 0)).
Proof.
  apply (differentiable_at_ext 2 (fun v => bn_phi eps (v 0%nat))); [intros v; apply bn_eval|].
  apply (differentiable_at_comp_is_derive 2 (bn_phi eps) (fun v => v 0%nat) vzero (unit_vec 0) (bn_dphi eps 0)).
  - apply (bn_phi_derive eps Heps 0).
  - apply differentiable_at_coord; lia.
Qed.

Lemma bn_dphi_0 : bn_dphi eps 0 = / sqrt eps.
Proof.
  unfold bn_dphi; replace (0 * 0 + eps) with eps by ring.
  field; split; [apply Rgt_not_eq, sqrt_lt_R0 | ]; lra.
Qed.

Lemma bn_ad_zero : st_ad sn (fun _ => 0) vzero 0%nat = 0.
Proof.
  assert (Hy : forall j, (j < 2)%nat -> st_ybar sn (fun _ => 0) vzero j = 0).
  { intros j Hj; destruct (st_ad_equations sn (fun _ => 0) vzero j 0 Hj) as [_ [H _]]; rewrite H.
    rewrite bn_preact by exact Hj.
    replace (bn_phi eps (vzero 0%nat)) with 0 by (unfold bn_phi, vzero, Rdiv; ring).
    rewrite Rmult_0_r; change (st_sigma sn j) with relu; rewrite relu_deriv_choice_0; ring. }
  destruct (st_ad_equations sn (fun _ => 0) vzero 0 0 ltac:(simpl; lia)) as [_ [_ H]].
  rewrite H by (simpl; lia); simpl; unfold sum_list; simpl.
  rewrite !Hy by lia; unfold st_dgw; simpl; ring.
Qed.

Lemma bn_bias_no_influence w k : (k < 2)%nat -> st_dw sn w k 1 = 0.
Proof. intros Hk; unfold st_dw; destruct k as [|[|k]]; [| |lia]; simpl; unfold vscale, unit_vec; simpl; ring. Qed.

(* the counterexample: the pre-activations are training-mode BatchNorm of
   u_i = x_i w + b; b does not influence them; f is differentiable at 0 with
   gradient G, and AD with relu'(0) = 0 differs from G *)
Theorem T6_batchnorm_train_fails_at :
  (forall u i, (i < 2)%nat -> c1_g (st_tau sn i) u = bn_train eps (u 0%nat) (u 1%nat) i) /\
  (forall w k, (k < 2)%nat -> st_dw sn w k 1 = 0) /\
  exists G, differentiable_at 2 (st_eval sn) vzero G /\ st_ad sn (fun _ => 0) vzero 0%nat <> G 0%nat.
Proof.
  split; [intros u i Hi; apply (bn_net_is_batchnorm eps Heps u i Hi)|].
  split; [apply bn_bias_no_influence|].
  exists (vscale (bn_dphi eps 0) (unit_vec 0)); split; [apply bn_differentiable|].
  rewrite bn_ad_zero, bn_dphi_0; unfold vscale, unit_vec; simpl; rewrite Rmult_1_r.
  apply Rlt_not_eq, Rinv_0_lt_compat, sqrt_lt_R0, Heps.
Qed.

End Fails.
