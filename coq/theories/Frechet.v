(* Frechet differentiability of functions of the parameters (THEORY.md
   section 4: "f is (Frechet) differentiable at w", grad f(w); used by the
   theorems of section 5 and the proof sketches of section 6).  Functions
   vec -> R, perturbations h supported in R^W, the max norm on R^W.
   Definitions, then the little-o calculus, then the differentiation rules. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec.
Open Scope R_scope.

Definition differentiable_at (W : nat) (f : vec -> R) (w g : vec) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (f (vadd w h) - f w - dot W g h) <= eps * norm_max W h.

Definition differentiable (W : nat) (f : vec -> R) (w : vec) : Prop :=
  exists g, differentiable_at W f w g.

(* e(h) = o(|h|) as h -> 0 in R^W *)
Definition small_o (W : nat) (e : vec -> R) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (e h) <= eps * norm_max W h.

(* continuity at w, with the max norm on R^W *)
Definition continuous_at (W : nat) (f : vec -> R) (w : vec) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (f (vadd w h) - f w) < eps.

Lemma differentiable_at_small_o W f w g :
  differentiable_at W f w g <-> small_o W (fun h => f (vadd w h) - f w - dot W g h).
Proof. split; intros H; exact H. Qed.

(* eps / (N + 1) * (a * N) <= eps * a: the rescaling used along a direction *)
Lemma rescale_le eps a N : 0 <= eps -> 0 <= a -> 0 <= N -> eps / (N + 1) * (a * N) <= eps * a.
Proof.
  intros He Ha HN; unfold Rdiv.
  assert (Hk : / (N + 1) * (N + 1) = 1) by (field; lra).
  assert (Hk0 : 0 < / (N + 1)) by (apply Rinv_0_lt_compat; lra).
  assert (HkN : / (N + 1) * N <= 1) by nra.
  replace (eps * / (N + 1) * (a * N)) with ((eps * a) * (/ (N + 1) * N)) by ring.
  rewrite <- (Rmult_1_r (eps * a)) at 2; apply Rmult_le_compat_l; nra.
Qed.

Lemma rescale_lt a N d : 0 <= a -> 0 <= N -> a < d / (N + 1) -> a * N < d.
Proof.
  intros Ha HN H; apply (Rmult_lt_compat_r (N + 1)) in H; [|lra].
  unfold Rdiv in H; rewrite Rmult_assoc, Rinv_l, Rmult_1_r in H; nra.
Qed.

(* Differentiability along a supported direction v: the first-order estimate
   for t -> f (w + t v), with derivative dot W g v. *)
Lemma differentiable_at_directional W f w g v :
  differentiable_at W f w g -> supported W v ->
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall t, Rabs t < delta ->
    Rabs (f (vadd w (vscale t v)) - f w - t * dot W g v) <= eps * Rabs t.
Proof.
  intros Hd Hv eps Heps.
  pose proof (norm_max_nonneg W v) as HN.
  destruct (Hd (eps / (norm_max W v + 1))) as [d [Hd0 Hdd]];
    [apply Rdiv_lt_0_compat; lra|].
  exists (d / (norm_max W v + 1)); split; [apply Rdiv_lt_0_compat; lra|].
  intros t Ht; pose proof (Rabs_pos t) as Ht0.
  rewrite <- dot_vscale_r.
  eapply Rle_trans; [apply Hdd; [now apply supported_vscale|]|];
    rewrite norm_max_vscale.
  - now apply rescale_lt.
  - apply rescale_le; lra.
Qed.
