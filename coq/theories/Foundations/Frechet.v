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

(* ------------------------------------------------------------------------- *)
(* Little-o calculus *)

(* |a h| <= C |h| near 0 *)
Definition bounded_by_norm (W : nat) (a : vec -> R) : Prop :=
  exists C delta, 0 <= C /\ 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (a h) <= C * norm_max W h.

(* b h -> 0 as h -> 0 *)
Definition vanishes (W : nat) (b : vec -> R) : Prop :=
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (b h) <= eps.

Lemma small_o_ext W e1 e2 :
  (forall h, supported W h -> e1 h = e2 h) -> small_o W e1 -> small_o W e2.
Proof.
  intros He H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros h Hs Hn; rewrite <- He by exact Hs; now apply K.
Qed.

Lemma small_o_zero W : small_o W (fun _ => 0).
Proof.
  intros eps Heps; exists 1; split; [lra|]; intros h _ _; rewrite Rabs_R0.
  pose proof (norm_max_nonneg W h); nra.
Qed.

Lemma small_o_plus W e1 e2 : small_o W e1 -> small_o W e2 -> small_o W (fun h => e1 h + e2 h).
Proof.
  intros H1 H2 eps Heps.
  destruct (H1 (eps / 2)) as [d1 [Hd1 K1]]; [lra|]; destruct (H2 (eps / 2)) as [d2 [Hd2 K2]]; [lra|].
  exists (Rmin d1 d2); split; [now apply Rmin_glb_lt|]; intros h Hs Hn.
  pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
  specialize (K1 h Hs ltac:(lra)); specialize (K2 h Hs ltac:(lra)).
  eapply Rle_trans; [apply Rabs_triang|lra].
Qed.

Lemma small_o_scal W c e : small_o W e -> small_o W (fun h => c * e h).
Proof.
  intros H eps Heps; pose proof (Rabs_pos c) as Hc.
  destruct (H (eps / (Rabs c + 1))) as [d [Hd K]]; [apply Rdiv_lt_0_compat; lra|].
  exists d; split; [exact Hd|]; intros h Hs Hn; specialize (K h Hs Hn).
  pose proof (norm_max_nonneg W h); rewrite Rabs_mult.
  eapply Rle_trans; [apply Rmult_le_compat_l; [exact Hc|exact K]|].
  replace (Rabs c * (eps / (Rabs c + 1) * norm_max W h))
    with (eps / (Rabs c + 1) * (norm_max W h * Rabs c)) by ring.
  apply rescale_le; lra.
Qed.

Lemma small_o_bounded W e : small_o W e -> bounded_by_norm W e.
Proof.
  intros H; destruct (H 1) as [d [Hd K]]; [lra|]; exists 1, d; repeat split; auto; lra.
Qed.

Lemma dot_bounded W g : bounded_by_norm W (fun h => dot W g h).
Proof.
  exists (sum_abs W g), 1; repeat split; [apply sum_abs_nonneg|lra|].
  intros h _ _; apply dot_bound.
Qed.

Lemma bounded_plus W a b :
  bounded_by_norm W a -> bounded_by_norm W b -> bounded_by_norm W (fun h => a h + b h).
Proof.
  intros [C1 [d1 [HC1 [Hd1 K1]]]] [C2 [d2 [HC2 [Hd2 K2]]]].
  exists (C1 + C2), (Rmin d1 d2); repeat split; [lra|now apply Rmin_glb_lt|].
  intros h Hs Hn; pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
  specialize (K1 h Hs ltac:(lra)); specialize (K2 h Hs ltac:(lra)).
  eapply Rle_trans; [apply Rabs_triang|lra].
Qed.

Lemma bounded_vanishes W a : bounded_by_norm W a -> vanishes W a.
Proof.
  intros [C [d [HC [Hd K]]]] eps Heps.
  exists (Rmin d (eps / (C + 1))); split.
  { apply Rmin_glb_lt; [exact Hd|apply Rdiv_lt_0_compat; lra]. }
  intros h Hs Hn; pose proof (Rmin_l d (eps / (C + 1))); pose proof (Rmin_r d (eps / (C + 1))).
  pose proof (norm_max_nonneg W h).
  eapply Rle_trans; [apply K; [exact Hs|lra]|].
  rewrite Rmult_comm; apply Rlt_le, rescale_lt; lra.
Qed.

(* O(|h|) times o(1) is o(|h|) *)
Lemma small_o_bounded_vanishes W a b :
  bounded_by_norm W a -> vanishes W b -> small_o W (fun h => a h * b h).
Proof.
  intros [C [d1 [HC [Hd1 K1]]]] Hb eps Heps.
  destruct (Hb (eps / (C + 1))) as [d2 [Hd2 K2]]; [apply Rdiv_lt_0_compat; lra|].
  exists (Rmin d1 d2); split; [now apply Rmin_glb_lt|]; intros h Hs Hn.
  pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2); pose proof (norm_max_nonneg W h).
  specialize (K1 h Hs ltac:(lra)); specialize (K2 h Hs ltac:(lra)).
  rewrite Rabs_mult.
  eapply Rle_trans; [apply Rmult_le_compat; [apply Rabs_pos|apply Rabs_pos|exact K1|exact K2]|].
  rewrite Rmult_comm, (Rmult_comm C); apply rescale_le; lra.
Qed.

(* r(k) = o(k) as k -> 0 in R, composed with an O(|h|) function *)
Lemma small_o_comp_R W (r : R -> R) a :
  (forall eps, 0 < eps -> exists delta, 0 < delta /\ forall k, Rabs k < delta -> Rabs (r k) <= eps * Rabs k) ->
  bounded_by_norm W a -> small_o W (fun h => r (a h)).
Proof.
  intros Hr Ha eps Heps.
  pose proof (bounded_vanishes W a Ha) as Hv; destruct Ha as [C [d1 [HC [Hd1 K1]]]].
  destruct (Hr (eps / (C + 1))) as [d2 [Hd2 K2]]; [apply Rdiv_lt_0_compat; lra|].
  destruct (Hv (d2 / 2)) as [d3 [Hd3 K3]]; [lra|].
  exists (Rmin d1 d3); split; [now apply Rmin_glb_lt|]; intros h Hs Hn.
  pose proof (Rmin_l d1 d3); pose proof (Rmin_r d1 d3); pose proof (norm_max_nonneg W h).
  specialize (K1 h Hs ltac:(lra)); specialize (K3 h Hs ltac:(lra)).
  eapply Rle_trans; [apply K2; lra|].
  eapply Rle_trans; [apply Rmult_le_compat_l; [apply Rlt_le, Rdiv_lt_0_compat; lra|exact K1]|].
  rewrite (Rmult_comm C); apply rescale_le; lra.
Qed.

(* ------------------------------------------------------------------------- *)
(* Differentiable functions are calm, hence continuous *)

Lemma differentiable_at_bounded W f w g :
  differentiable_at W f w g -> bounded_by_norm W (fun h => f (vadd w h) - f w).
Proof.
  intros Hd.
  assert (H := bounded_plus W _ _ (small_o_bounded W _ Hd) (dot_bounded W g)).
  destruct H as [C [d [HC [Hd0 K]]]]; exists C, d; repeat split; auto.
  intros h Hs Hn; specialize (K h Hs Hn); cbv beta in K.
  replace (f (vadd w h) - f w - dot W g h + dot W g h) with (f (vadd w h) - f w) in K by ring.
  exact K.
Qed.

Lemma differentiable_continuous W f w g : differentiable_at W f w g -> continuous_at W f w.
Proof.
  intros Hd eps Heps.
  destruct (bounded_vanishes W _ (differentiable_at_bounded W f w g Hd) (eps / 2)) as [d [Hd0 K]];
    [lra|].
  exists d; split; [exact Hd0|]; intros h Hs Hn; specialize (K h Hs Hn); lra.
Qed.

Lemma differentiable_continuous' W f w : differentiable W f w -> continuous_at W f w.
Proof. intros [g Hd]; exact (differentiable_continuous W f w g Hd). Qed.

(* ------------------------------------------------------------------------- *)
(* Uniqueness of the gradient *)

Lemma Rabs_le_all_eps_0 x : (forall eps, 0 < eps -> Rabs x <= eps) -> x = 0.
Proof.
  intros H; destruct (Req_dec x 0) as [|Hne]; [assumption|exfalso].
  pose proof (Rabs_pos_lt x Hne); specialize (H (Rabs x / 2) ltac:(lra)); lra.
Qed.

Lemma differentiable_at_unique W f w g1 g2 :
  differentiable_at W f w g1 -> differentiable_at W f w g2 ->
  forall i, (i < W)%nat -> g1 i = g2 i.
Proof.
  intros H1 H2 i Hi.
  cut (g1 i - g2 i = 0); [lra|]; apply Rabs_le_all_eps_0; intros eps Heps.
  assert (Hs : supported W (unit_vec i)) by now apply supported_unit_vec.
  destruct (differentiable_at_directional W f w g1 _ H1 Hs (eps / 2)) as [d1 [Hd1 K1]]; [lra|].
  destruct (differentiable_at_directional W f w g2 _ H2 Hs (eps / 2)) as [d2 [Hd2 K2]]; [lra|].
  set (t := Rmin d1 d2 / 2).
  assert (Ht : 0 < t < d1 /\ t < d2).
  { pose proof (Rmin_l d1 d2); pose proof (Rmin_r d1 d2).
    pose proof (Rmin_glb_lt d1 d2 0 Hd1 Hd2); unfold t; lra. }
  specialize (K1 t ltac:(rewrite Rabs_pos_eq; lra)); specialize (K2 t ltac:(rewrite Rabs_pos_eq; lra)).
  rewrite (Rabs_pos_eq t) in K1, K2 by lra.
  rewrite !dot_unit_vec_r in K1, K2 by exact Hi.
  apply Rmult_le_reg_l with t; [lra|].
  rewrite <- (Rabs_pos_eq t) at 1 by lra; rewrite <- Rabs_mult.
  revert K1 K2; generalize (f (vadd w (vscale t (unit_vec i)))); intros F K1 K2.
  split_Rabs; nra.
Qed.

Lemma differentiable_at_grad_ext W f w g g' :
  (forall i, (i < W)%nat -> g i = g' i) -> differentiable_at W f w g -> differentiable_at W f w g'.
Proof.
  intros Hg Hd; apply (small_o_ext W (fun h => f (vadd w h) - f w - dot W g h)); [|exact Hd].
  intros h _; now rewrite (dot_ext W g g' h h).
Qed.

(* ------------------------------------------------------------------------- *)
(* Rules *)

Lemma differentiable_at_const W c w : differentiable_at W (fun _ => c) w vzero.
Proof.
  apply (small_o_ext W (fun _ => 0)); [|apply small_o_zero].
  intros h _; rewrite dot_vzero_l; ring.
Qed.

Lemma differentiable_at_coord W p w : (p < W)%nat -> differentiable_at W (fun v => v p) w (unit_vec p).
Proof.
  intros Hp; apply (small_o_ext W (fun _ => 0)); [|apply small_o_zero].
  intros h _; rewrite dot_unit_vec_l by exact Hp; unfold vadd; ring.
Qed.

Lemma differentiable_at_plus W f g w gf gg :
  differentiable_at W f w gf -> differentiable_at W g w gg ->
  differentiable_at W (fun v => f v + g v) w (vadd gf gg).
Proof.
  intros Hf Hg; eapply small_o_ext; [|exact (small_o_plus W _ _ Hf Hg)].
  intros h _; cbv beta; rewrite dot_vadd_l; ring.
Qed.

Lemma differentiable_at_scal W c f w gf :
  differentiable_at W f w gf -> differentiable_at W (fun v => c * f v) w (vscale c gf).
Proof.
  intros Hf; eapply small_o_ext; [|exact (small_o_scal W c _ Hf)].
  intros h _; cbv beta; rewrite dot_vscale_l; ring.
Qed.

Lemma differentiable_at_opp W f w gf :
  differentiable_at W f w gf -> differentiable_at W (fun v => - f v) w (vscale (-1) gf).
Proof.
  intros Hf; eapply small_o_ext; [|exact (small_o_scal W (-1) _ Hf)].
  intros h _; cbv beta; rewrite dot_vscale_l; ring.
Qed.

Lemma differentiable_at_minus W f g w gf gg :
  differentiable_at W f w gf -> differentiable_at W g w gg ->
  differentiable_at W (fun v => f v - g v) w (vadd gf (vscale (-1) gg)).
Proof.
  intros Hf Hg; eapply small_o_ext;
    [|exact (small_o_plus W _ _ Hf (small_o_scal W (-1) _ Hg))].
  intros h _; cbv beta; rewrite dot_vadd_l, dot_vscale_l; ring.
Qed.

Lemma differentiable_at_mult W f g w gf gg :
  differentiable_at W f w gf -> differentiable_at W g w gg ->
  differentiable_at W (fun v => f v * g v) w (vadd (vscale (f w) gg) (vscale (g w) gf)).
Proof.
  intros Hf Hg.
  assert (H := small_o_plus W _ _ (small_o_plus W _ _ (small_o_scal W (g w) _ Hf) (small_o_scal W (f w) _ Hg))
    (small_o_bounded_vanishes W _ _ (differentiable_at_bounded W f w gf Hf)
       (bounded_vanishes W _ (differentiable_at_bounded W g w gg Hg)))).
  eapply small_o_ext; [|exact H].
  intros h _; cbv beta; rewrite dot_vadd_l, !dot_vscale_l; ring.
Qed.

(* |phi (x + k) - phi x - d k| <= eps |k| near 0 *)
Lemma derivable_pt_lim_estimate phi x d :
  derivable_pt_lim phi x d ->
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall k, Rabs k < delta ->
    Rabs (phi (x + k) - phi x - d * k) <= eps * Rabs k.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [[delta Hd] K]; exists delta; split; [exact Hd|].
  intros k Hk; destruct (Req_dec k 0) as [->|Hne].
  - rewrite Rplus_0_r, Rabs_R0; replace (phi x - phi x - d * 0) with 0 by ring; rewrite Rabs_R0; lra.
  - specialize (K k Hne Hk); pose proof (Rabs_pos_lt k Hne).
    replace (phi (x + k) - phi x - d * k) with (((phi (x + k) - phi x) / k - d) * k) by (field; exact Hne).
    rewrite Rabs_mult; apply Rmult_le_compat_r; lra.
Qed.

(* Composition with a function of one variable differentiable at f w *)
Lemma differentiable_at_comp W (phi : R -> R) f w gf d :
  derivable_pt_lim phi (f w) d -> differentiable_at W f w gf ->
  differentiable_at W (fun v => phi (f v)) w (vscale d gf).
Proof.
  intros Hphi Hf.
  pose (r := fun k => phi (f w + k) - phi (f w) - d * k).
  assert (Hr := small_o_comp_R W r _ (derivable_pt_lim_estimate phi (f w) d Hphi)
                  (differentiable_at_bounded W f w gf Hf)).
  assert (H := small_o_plus W _ _ Hr (small_o_scal W d _ Hf)).
  eapply small_o_ext; [|exact H].
  intros h _; cbv beta; unfold r; rewrite dot_vscale_l.
  replace (f w + (f (vadd w h) - f w)) with (f (vadd w h)) by ring; ring.
Qed.

(* Agreement on a neighbourhood of w *)
Lemma differentiable_at_local_ext W f f' w g delta :
  0 < delta ->
  (forall h, supported W h -> norm_max W h < delta -> f' (vadd w h) = f (vadd w h)) ->
  differentiable_at W f w g -> differentiable_at W f' w g.
Proof.
  intros Hd Heq Hf eps Heps.
  assert (Hw : f' w = f w).
  { rewrite <- (vadd_vzero_r w); apply Heq; [apply supported_vzero|now rewrite norm_max_vzero]. }
  destruct (Hf eps Heps) as [d [Hd0 K]]; exists (Rmin d delta); split; [now apply Rmin_glb_lt|].
  intros h Hs Hn; pose proof (Rmin_l d delta); pose proof (Rmin_r d delta).
  rewrite Hw, Heq by (auto || lra); apply K; [exact Hs|lra].
Qed.

Lemma differentiable_local_ext W f f' w delta :
  0 < delta ->
  (forall h, supported W h -> norm_max W h < delta -> f' (vadd w h) = f (vadd w h)) ->
  differentiable W f w -> differentiable W f' w.
Proof. intros Hd Heq [g Hf]; exists g; exact (differentiable_at_local_ext W f f' w g delta Hd Heq Hf). Qed.

Lemma differentiable_at_ext W f f' w g :
  (forall v, f' v = f v) -> differentiable_at W f w g -> differentiable_at W f' w g.
Proof. intros Heq; apply (differentiable_at_local_ext W f f' w g 1); [lra|intros; apply Heq]. Qed.

(* Finite sums *)
Lemma differentiable_at_sum_list {A : Type} W (F : A -> vec -> R) (G : A -> vec) (ks : list A) w :
  (forall k, In k ks -> differentiable_at W (F k) w (G k)) ->
  differentiable_at W (fun v => fold_right Rplus 0 (map (fun k => F k v) ks)) w
    (fun i => fold_right Rplus 0 (map (fun k => G k i) ks)).
Proof.
  induction ks as [|k ks IH]; intros H; simpl.
  - exact (differentiable_at_const W 0 w).
  - apply (differentiable_at_grad_ext W _ w (vadd (G k) (fun i => fold_right Rplus 0 (map (fun k => G k i) ks)))).
    { intros i _; reflexivity. }
    apply differentiable_at_plus; [apply H; now left|apply IH; intros k' Hk'; apply H; now right].
Qed.

(* The same rule with Coquelicot's derivative *)
From Coquelicot Require Import Hierarchy Derive.

Lemma differentiable_at_comp_is_derive W (phi : R -> R) f w gf d :
  is_derive phi (f w) d -> differentiable_at W f w gf ->
  differentiable_at W (fun v => phi (f v)) w (vscale d gf).
Proof. intros Hphi; apply differentiable_at_comp; now apply is_derive_Reals. Qed.
