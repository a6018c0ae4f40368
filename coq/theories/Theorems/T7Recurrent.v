(* T7 needs ordered classes (THEORY.md section 8.1, "Tied networks"; issue
   18, item 1): unrolled recurrent networks are not tied-bias networks in
   the sense of Tied.v, and T7 fails for them.  Two time steps of a relu
   RNN with hidden size 1, zero inputs, recurrent weight u and bias b:
     h_1 = relu(b),  h_2 = relu(u h_1 + b),  f = h_2.
   Both neurons are in one class, whose bias b enters each of them with
   coefficient 1 and nothing else (the issue's informal definition), but
   h_2 reads h_1 of its own class.  At (b, u) = (0, -1), f = 0 near the
   point up to |b| |u + 1| (f(b, u) = relu((u + 1) b) for b > 0, 0 for
   b <= 0), so f is differentiable with gradient 0; both neurons are on the
   kink, and AD with relu'(0) = 1/2 (theta-uniform: theta = 1/2 for relu's
   only kink) gives df/db = D - D^2 = 1/4.  With D = 0 or 1 the AD value here
   is 0; whether T7 holds for recurrent classes and every choice with theta
   in {0, 1} is open. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet Activation Network AD Tied.
Import ListNotations.
Open Scope R_scope.

(** * The network *)

(* parameter 0 is b, parameter 1 is u *)
Definition rnn2 : network := {|
  n_params := 2;
  n_input := fun _ => 0;
  n_neurons := [ (EParam 0, relu);
                 (EAdd (EMul (EParam 1) (ENeuron 0)) (EParam 0), relu) ];
  n_out := ENeuron 1 |}.

Definition rnn2_w0 : vec := fun i => match i with 1%nat => -1 | _ => 0 end.

Ltac rnn2_simpl := unfold preact, post, net_eval, zvec, tau, sigma, n_size;
  cbn [rnn2 n_neurons n_input n_out length nth fst snd eval].

Lemma rnn2_wf : wf rnn2.
Proof.
  unfold wf, neurons_below, params_below, n_size; simpl.
  split; [|split].
  - intros k Hk; destruct k as [|[|k]]; simpl; split; intros j Hj; simpl in Hj; lia.
  - intros j Hj; simpl in Hj; lia.
  - intros q Hq; simpl in Hq; lia.
Qed.

Lemma rnn2_preact0 (w : vec) : preact rnn2 w 0 = w 0%nat.
Proof. reflexivity. Qed.

Lemma rnn2_preact1 (w : vec) : preact rnn2 w 1 = w 1%nat * Rmax 0 (w 0%nat) + w 0%nat.
Proof.
  rnn2_simpl; rewrite zvals_lt by lia; fold (post rnn2 w 0).
  unfold post; rewrite rnn2_preact0; change (sigma rnn2 0) with relu; rewrite relu_eval; reflexivity.
Qed.

Lemma rnn2_eval (w : vec) : net_eval rnn2 w = Rmax 0 (w 1%nat * Rmax 0 (w 0%nat) + w 0%nat).
Proof.
  rnn2_simpl; rewrite zvals_lt by lia; fold (post rnn2 w 1).
  unfold post; rewrite rnn2_preact1; change (sigma rnn2 1) with relu; rewrite relu_eval; reflexivity.
Qed.

(** * One class, one bias, not ordered *)

Lemma rnn2_class_bias : class_bias rnn2 (fun _ => 0%nat) 0 0.
Proof.
  split; [simpl; lia|]; intros c Hc; unfold n_size in Hc; simpl in Hc; split; [|intros H; congruence].
  intros _; destruct c as [|[|c]]; [| |lia].
  - exists (EConst 0); split; [simpl; tauto|]; intros w z; simpl; ring.
  - exists (EMul (EParam 1) (ENeuron 0)); split; [simpl; lia|]; intros w z; simpl; ring.
Qed.

Lemma rnn2_not_ordered : ~ classes_ordered rnn2 (fun _ => 0%nat).
Proof. intros H; specialize (H 1%nat 0%nat ltac:(unfold n_size; simpl; lia) ltac:(simpl; tauto)); lia. Qed.

(** * f is differentiable at (0, -1) with gradient 0 *)

Lemma rnn2_small (hb hu : R) :
  Rabs (Rmax 0 ((-1 + hu) * Rmax 0 hb + hb)) <= Rabs hu * Rabs hb.
Proof.
  unfold Rmax; destruct (Rle_dec 0 hb).
  - replace ((-1 + hu) * hb + hb) with (hu * hb) by ring; rewrite <- Rabs_mult.
    destruct (Rle_dec 0 (hu * hb)); [lra|]; rewrite Rabs_R0; apply Rabs_pos.
  - replace ((-1 + hu) * 0 + hb) with hb by ring; destruct (Rle_dec 0 hb); [lra|].
    rewrite Rabs_R0; apply Rmult_le_pos; apply Rabs_pos.
Qed.

Theorem rnn2_differentiable : differentiable_at 2 (net_eval rnn2) rnn2_w0 vzero.
Proof.
  intros eps Heps; exists eps; split; [exact Heps|].
  intros h Hs Hn.
  assert (H0 : Rabs (h 0%nat) <= norm_max 2 h) by (apply norm_max_coord; lia).
  assert (H1 : Rabs (h 1%nat) <= norm_max 2 h) by (apply norm_max_coord; lia).
  rewrite !rnn2_eval, dot_vzero_l; unfold vadd, rnn2_w0.
  replace (0 + h 0%nat) with (h 0%nat) by ring; replace (-1 + h 1%nat) with (-1 + h 1%nat) by ring.
  replace (Rmax 0 (-1 * Rmax 0 0 + 0)) with 0 by (unfold Rmax; repeat destruct Rle_dec; lra).
  rewrite !Rminus_0_r; eapply Rle_trans; [apply rnn2_small|].
  apply Rmult_le_compat; try apply Rabs_pos; lra.
Qed.

(** * AD with relu'(0) = D *)

Lemma rnn2_preact_w0 (k : nat) : (k < 2)%nat -> preact rnn2 rnn2_w0 k = 0.
Proof.
  intros Hk; destruct k as [|[|k]]; [reflexivity | | lia].
  rewrite rnn2_preact1; unfold rnn2_w0, Rmax; destruct (Rle_dec 0 0); lra.
Qed.

Lemma rnn2_ad (d : R) : ad rnn2 (fun _ => d) rnn2_w0 0 = d - d * d.
Proof.
  assert (Hd : forall k, (k < 2)%nat -> dchoice rnn2 (fun _ => d) rnn2_w0 k = d).
  { intros k Hk; unfold dchoice; rewrite rnn2_preact_w0 by exact Hk.
    destruct k as [|[|k]]; try lia; apply act_deriv_choice_kink, relu_is_kink; reflexivity. }
  assert (Hy1 : ybar rnn2 (fun _ => d) rnn2_w0 1 = d).
  { rewrite ybar_eq, Hd by (unfold n_size; simpl; lia).
    rewrite zbar_eq; unfold n_size; simpl; unfold sum_list; simpl; ring. }
  assert (Hz1 : zvec rnn2 rnn2_w0 0%nat = 0).
  { rewrite zvec_lt by (unfold n_size; simpl; lia); unfold post; rewrite rnn2_preact_w0 by lia.
    change (sigma rnn2 0) with relu; rewrite relu_eval; unfold Rmax; destruct (Rle_dec 0 0); lra. }
  assert (Hy0 : ybar rnn2 (fun _ => d) rnn2_w0 0 = - d * d).
  { rewrite ybar_eq, Hd by (unfold n_size; simpl; lia).
    rewrite zbar_eq; unfold n_size; simpl; unfold sum_list; simpl.
    rewrite Hy1; unfold rnn2_w0; simpl; ring. }
  rewrite ad_eq; unfold n_size; simpl; unfold sum_list; simpl.
  rewrite Hy0, Hy1; ring.
Qed.

(* T7's conclusion fails for this recurrent "tied" network *)
Theorem T7_recurrent_fails :
  wf rnn2 /\ class_bias rnn2 (fun _ => 0%nat) 0 0 /\ ~ classes_ordered rnn2 (fun _ => 0%nat) /\
  (forall c y, is_kink (sigma rnn2 c) y ->
     1 / 2 = slope_left (sigma rnn2 c) y + 1 / 2 * (slope_right (sigma rnn2 c) y - slope_left (sigma rnn2 c) y)) /\
  differentiable_at 2 (net_eval rnn2) rnn2_w0 vzero /\
  ad rnn2 (fun _ => 1 / 2) rnn2_w0 0 = 1 / 4.
Proof.
  split; [exact rnn2_wf|]; split; [exact rnn2_class_bias|]; split; [exact rnn2_not_ordered|].
  split; [|split; [exact rnn2_differentiable | rewrite rnn2_ad; field]].
  intros c y Hk.
  assert (Hs : sigma rnn2 c = relu \/ sigma rnn2 c = act_id)
    by (destruct c as [|[|c]]; [left | left | right; destruct c]; reflexivity).
  destruct Hs as [Hs|Hs]; rewrite Hs in Hk |- *.
  - apply relu_is_kink in Hk as ->; destruct relu_slopes_0 as [-> ->]; field.
  - exfalso; apply kinks_spec in Hk; rewrite act_id_kinks in Hk; exact Hk.
Qed.
