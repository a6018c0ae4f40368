(* THEORY.md section 5, T5(a): without bias parameters AD can be wrong where
   the network is differentiable.  The network T5a of AD.v (input x = 1,
   z_0 = a x identity, y_1 = v_1 z_0, y_2 = v_2 z_0, relu on both,
   f = z_1 - z_2) is Frechet differentiable at (a, v_1, v_2) = (0, 1, -1)
   with gradient (1, 0, 0), while AD with relu'(0) = 0 gives (0, 0, 0).
   There NS holds (neuron 1 is a kink neuron with adjoint 1): NS does not
   imply non-differentiability without the bias hypothesis.  Last section:
   the Clarke subdifferential there is exactly {(1, 0, 0)}, so T4 fails
   without the bias hypothesis (T4_fails_without_bias). *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * f in closed form *)

Lemma T5a_post_0 (w : vec) : post T5a w 0 = w 0%nat * 1.
Proof. unfold post; rewrite T5a_sigma0, act_id_eval; T5a_simpl; reflexivity. Qed.

Lemma T5a_preact_1 (w : vec) : preact T5a w 1 = w 1%nat * (w 0%nat * 1).
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a w 0).
  rewrite T5a_post_0; reflexivity.
Qed.

Lemma T5a_preact_2 (w : vec) : preact T5a w 2 = w 2%nat * (w 0%nat * 1).
Proof.
  T5a_simpl; rewrite zvals_lt by lia; fold (post T5a w 0).
  rewrite T5a_post_0; reflexivity.
Qed.

Lemma T5a_eval (w : vec) :
  net_eval T5a w = Rmax 0 (w 1%nat * w 0%nat) - Rmax 0 (w 2%nat * w 0%nat).
Proof.
  T5a_simpl; rewrite !zvals_lt by lia; unfold post.
  rewrite T5a_preact_1, T5a_preact_2, T5a_sigma1, T5a_sigma2, !relu_eval.
  rewrite !Rmult_1_r; ring.
Qed.

(** * Differentiability at (0, 1, -1) *)

Lemma T5a_local (h0 h1 h2 : R) :
  Rabs h1 < 1 -> Rabs h2 < 1 ->
  Rmax 0 ((1 + h1) * h0) - Rmax 0 ((-1 + h2) * h0) - h0 = h1 * h0 \/
  Rmax 0 ((1 + h1) * h0) - Rmax 0 ((-1 + h2) * h0) - h0 = - (h2 * h0).
Proof.
  intros H1 H2; apply Rabs_def2 in H1; apply Rabs_def2 in H2.
  unfold Rmax; destruct (Rle_dec 0 h0).
  - left; repeat destruct Rle_dec; nra.
  - right; repeat destruct Rle_dec; nra.
Qed.

Theorem T5a_differentiable : differentiable_at 3 (net_eval T5a) T5a_w0 (unit_vec 0).
Proof.
  intros eps Heps; exists (Rmin (1/2) eps); split; [apply Rmin_glb_lt; lra|].
  intros h Hs Hn.
  generalize (Rmin_l (1/2) eps) (Rmin_r (1/2) eps); intros Hm1 Hm2.
  assert (H0 : Rabs (h 0%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (H1 : Rabs (h 1%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (H2 : Rabs (h 2%nat) <= norm_max 3 h) by (apply norm_max_coord; lia).
  assert (Hnn := norm_max_nonneg 3 h).
  rewrite dot_comm, dot_unit_vec_r by lia.
  rewrite !T5a_eval; unfold vadd, T5a_w0.
  replace (0 + h 0%nat) with (h 0%nat) by ring.
  replace (Rmax 0 (1 * 0) - Rmax 0 (-1 * 0)) with 0
    by (rewrite !Rmult_0_r; unfold Rmax; repeat destruct Rle_dec; lra).
  rewrite Rminus_0_r.
  destruct (T5a_local (h 0%nat) (h 1%nat) (h 2%nat)) as [E|E]; try lra; rewrite E.
  - rewrite Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; lra.
  - rewrite Rabs_Ropp, Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; lra.
Qed.

(** * AD is wrong there, and NS holds *)

Theorem T5a_ad_wrong :
  differentiable_at 3 (net_eval T5a) T5a_w0 (unit_vec 0) /\
  ad T5a T5a_D T5a_w0 0%nat = 0 /\ unit_vec 0%nat 0%nat = 1.
Proof.
  split; [exact T5a_differentiable|]. split; [apply T5a_ad_zero|].
  unfold unit_vec; destruct (Nat.eq_dec 0 0); [reflexivity | congruence].
Qed.

Lemma T5a_kink_1 : In 1%nat (kink_neurons T5a T5a_w0).
Proof.
  apply kink_neurons_spec; split; [unfold n_size; simpl; lia|].
  rewrite T5a_sigma1, relu_is_kink, T5a_preact_1; unfold T5a_w0; ring.
Qed.

Lemma T5a_zbar_1 : zbar T5a T5a_D T5a_w0 1 = 1.
Proof.
  rewrite zbar_eq; unfold n_size; simpl.
  rewrite (ybar_eq T5a T5a_D T5a_w0 2) by (unfold n_size; simpl; lia).
  unfold sum_list; simpl; ring.
Qed.

Theorem T5a_NS : NS T5a T5a_D T5a_w0.
Proof. exists 1%nat; split; [exact T5a_kink_1 | rewrite T5a_zbar_1; lra]. Qed.

From ADCorrect Require Import OneSided Clarke.

(** * T4 fails without bias parameters (Coq IV, item 1) *)

(* At T5a_w0 the choice relu'(0) = 0 lies between the one-sided slopes 0 and
   1 of both kink neurons, as T4 asks, yet AD_D f(w0) = 0 is not in the Clarke
   subdifferential: near w0 (where v_1 > 0 > v_2) every gradient of f has
   first coordinate v_1 or -v_2 and the other two of size at most |a|, so the
   Clarke subdifferential at w0 is exactly {(1, 0, 0)} (f is strictly
   differentiable there). *)

(* a function affine on the right of 0 has that right derivative *)
Lemma right_deriv_affine_on (u : R -> R) (L d : R) :
  0 < d -> (forall t, 0 < t < d -> u t = u 0 + L * t) -> right_deriv u 0 L.
Proof.
  intros Hd H eps He; exists d; split; [exact Hd|]; intros t Ht.
  rewrite Rplus_0_l, H by exact Ht.
  replace ((u 0 + L * t - u 0) / t - L) with 0 by (field; lra).
  rewrite Rabs_R0; exact He.
Qed.

(* the gradient along coordinate p is the right derivative there *)
Lemma grad_right_deriv (W : nat) (f : vec -> R) (w g : vec) (p : nat) (L d : R) :
  differentiable_at W f w g -> (p < W)%nat -> 0 < d ->
  (forall t, 0 < t < d -> f (upd w p (w p + t)) = f w + L * t) -> g p = L.
Proof.
  intros Hdiff Hp Hd H.
  destruct (differentiable_one_sided W f w g p Hdiff Hp) as [Hr _].
  apply (right_deriv_unique _ _ _ _ Hr), (right_deriv_affine_on _ _ d Hd).
  intros t Ht; rewrite H by exact Ht; rewrite Rplus_0_r, Vec.upd_id; reflexivity.
Qed.

Lemma T5a_eval_upd (w : vec) (p : nat) (t : R) :
  net_eval T5a (upd w p t) =
  Rmax 0 (upd w p t 1%nat * upd w p t 0%nat) - Rmax 0 (upd w p t 2%nat * upd w p t 0%nat).
Proof. apply T5a_eval. Qed.

(* the gradients of f at points where v_1 > 0 > v_2 *)
Lemma T5a_grad_coords (w g : vec) :
  0 < w 1%nat -> w 2%nat < 0 -> differentiable_at 3 (net_eval T5a) w g ->
  (g 0%nat = w 1%nat \/ g 0%nat = - w 2%nat) /\
  (g 1%nat = w 0%nat \/ g 1%nat = 0) /\
  (g 2%nat = 0 \/ g 2%nat = - w 0%nat).
Proof.
  intros H1 H2 Hd.
  set (a := w 0%nat) in *; set (v1 := w 1%nat) in *; set (v2 := w 2%nat) in *.
  assert (Hf : net_eval T5a w = Rmax 0 (v1 * a) - Rmax 0 (v2 * a)) by apply T5a_eval.
  split; [|split].
  - destruct (Rle_or_lt 0 a) as [Ha|Ha].
    + left; apply (grad_right_deriv 3 _ w g 0 v1 1 Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
    + right; apply (grad_right_deriv 3 _ w g 0 (- v2) (- a) Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
  - destruct (Rle_or_lt 0 a) as [Ha|Ha].
    + left; apply (grad_right_deriv 3 _ w g 1 a v1 Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
    + right; apply (grad_right_deriv 3 _ w g 1 0 v1 Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
  - destruct (Rle_or_lt 0 a) as [Ha|Ha].
    + left; apply (grad_right_deriv 3 _ w g 2 0 (- v2) Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
    + right; apply (grad_right_deriv 3 _ w g 2 (- a) (- v2) Hd ltac:(lia) ltac:(lra)).
      intros t Ht; rewrite T5a_eval_upd, Hf; unfold upd; simpl; fold a v1 v2.
      unfold Rmax; repeat destruct Rle_dec; nra.
Qed.

(* so each gradient within distance r < 1/2 of w0 is within r of (1, 0, 0) *)
Lemma T5a_grad_close (w g : vec) :
  norm_max 3 (fun i => w i - T5a_w0 i) < 1/2 -> differentiable_at 3 (net_eval T5a) w g ->
  forall p, (p < 3)%nat -> Rabs (g p - unit_vec 0 p) <= norm_max 3 (fun i => w i - T5a_w0 i).
Proof.
  intros Hn Hd p Hp.
  set (r := norm_max 3 (fun i => w i - T5a_w0 i)) in *.
  assert (Hr : 0 <= r) by apply norm_max_nonneg.
  assert (H0 : Rabs (w 0%nat - 0) <= r) by exact (norm_max_coord 3 _ 0 ltac:(lia)).
  assert (H1 : Rabs (w 1%nat - 1) <= r) by exact (norm_max_coord 3 _ 1 ltac:(lia)).
  assert (H2 : Rabs (w 2%nat - -1) <= r) by exact (norm_max_coord 3 _ 2 ltac:(lia)).
  assert (Hw1 : 0 < w 1%nat) by (revert H1; split_Rabs; lra).
  assert (Hw2 : w 2%nat < 0) by (revert H2; split_Rabs; lra).
  destruct (T5a_grad_coords w g Hw1 Hw2 Hd) as [G0 [G1 G2]].
  unfold unit_vec; destruct p as [|[|[|p]]]; simpl; try lia.
  - destruct G0 as [-> | ->]; [exact H1|].
    replace (- w 2%nat - 1) with (- (w 2%nat - -1)) by ring; rewrite Rabs_Ropp; exact H1 || exact H2.
  - destruct G1 as [-> | ->]; [replace (w 0%nat - 0) with (w 0%nat - 0) by ring; exact H0|].
    rewrite Rminus_0_r, Rabs_R0; exact Hr.
  - destruct G2 as [-> | ->]; [rewrite Rminus_0_r, Rabs_R0; exact Hr|].
    rewrite Rminus_0_r, Rabs_Ropp; rewrite Rminus_0_r in H0; exact H0.
Qed.

(* every limit of gradients at w0 is (1, 0, 0) *)
Lemma T5a_clarke_limit (G : vec) :
  clarke_limit T5a T5a_w0 G -> forall p, (p < 3)%nat -> G p = unit_vec 0 p.
Proof.
  intros [wn [gn [Hw [Hd Hg]]]] p Hp.
  cut (G p - unit_vec 0 p = 0); [lra|]; apply Rabs_le_all_eps_0; intros eps He.
  destruct (Hw (Rmin (eps / 2) (1 / 2)) ltac:(apply Rmin_glb_lt; lra)) as [N1 K1].
  destruct (Hg p Hp (eps / 2) ltac:(lra)) as [N2 K2].
  specialize (K1 (Nat.max N1 N2) ltac:(lia)); specialize (K2 (Nat.max N1 N2) ltac:(lia)).
  generalize (Rmin_l (eps / 2) (1 / 2)) (Rmin_r (eps / 2) (1 / 2)); intros Hm1 Hm2.
  pose proof (T5a_grad_close (wn (Nat.max N1 N2)) (gn (Nat.max N1 N2)) ltac:(simpl in K1; lra)
                (Hd _) p Hp) as K3.
  simpl in K1; revert K2 K3; split_Rabs; lra.
Qed.

(* the Clarke subdifferential of f at w0 is {(1, 0, 0)} *)
Theorem T5a_clarke_exact (g : vec) :
  in_clarke T5a T5a_w0 g <-> forall p, (p < 3)%nat -> g p = unit_vec 0 p.
Proof.
  split.
  - intros [cs [Hcs [H1 Hg]]] p Hp; simpl in Hg; rewrite (Hg p Hp).
    rewrite (sum_list_map_ext _ (fun c => unit_vec 0 p * fst c)).
    + transitivity (unit_vec 0 p * sum_list (map fst cs));
        [apply (sum_list_map_scal (unit_vec 0 p) fst cs) | rewrite H1; ring].
    + intros c Hc; rewrite (T5a_clarke_limit (snd c) (proj2 (Hcs c Hc)) p Hp); ring.
  - intros Hg; exists [(1, unit_vec 0)]; split; [|split].
    + intros c [<-|[]]; split; [simpl; lra|].
      exists (fun _ => T5a_w0), (fun _ => unit_vec 0); split; [|split].
      * intros eps He; exists 0%nat; intros n _.
        rewrite (norm_max_ext _ _ vzero) by (intros i _; unfold vzero; ring).
        rewrite norm_max_vzero; exact He.
      * intros _; exact T5a_differentiable.
      * intros q _ eps He; exists 0%nat; intros n _; simpl.
        rewrite Rminus_eq_0, Rabs_R0; exact He.
    + unfold sum_list; simpl; ring.
    + intros p Hp; simpl in Hp; rewrite (Hg p Hp); unfold sum_list; simpl; ring.
Qed.

(* T4 needs the bias hypothesis: T5a is well formed, the choice relu'(0) = 0
   lies between the one-sided slopes at every kink neuron of w0, yet AD_D
   f(w0) is not in the Clarke subdifferential, every element of which has
   first coordinate 1 *)
Theorem T4_fails_without_bias :
  wf T5a /\
  (forall k, In k (kink_neurons T5a T5a_w0) ->
     Rmin (slope_left (sigma T5a k) (preact T5a T5a_w0 k)) (slope_right (sigma T5a k) (preact T5a T5a_w0 k))
       <= T5a_D k <=
     Rmax (slope_left (sigma T5a k) (preact T5a T5a_w0 k)) (slope_right (sigma T5a k) (preact T5a T5a_w0 k))) /\
  ~ in_clarke T5a T5a_w0 (ad T5a T5a_D T5a_w0) /\
  (forall g, in_clarke T5a T5a_w0 g -> g 0%nat = 1).
Proof.
  assert (Hfirst : forall g, in_clarke T5a T5a_w0 g -> g 0%nat = 1).
  { intros g Hg; rewrite (proj1 (T5a_clarke_exact g) Hg 0%nat ltac:(lia)); reflexivity. }
  split; [exact T5a_wf|]. split; [|split; [|exact Hfirst]].
  - intros k Hk; apply kink_neurons_spec in Hk as [Hk Hkink]; unfold n_size in Hk; simpl in Hk.
    destruct k as [|[|[|k]]]; try lia.
    + exfalso; rewrite T5a_sigma0, <- kinks_spec, act_id_kinks in Hkink; exact Hkink.
    + rewrite T5a_sigma1, T5a_preact_w0 by lia; destruct relu_slopes_0 as [-> ->].
      unfold T5a_D, Rmin, Rmax; destruct Rle_dec; lra.
    + rewrite T5a_sigma2, T5a_preact_w0 by lia; destruct relu_slopes_0 as [-> ->].
      unfold T5a_D, Rmin, Rmax; destruct Rle_dec; lra.
  - intros Hc; apply Hfirst in Hc; rewrite T5a_ad_zero in Hc; lra.
Qed.
