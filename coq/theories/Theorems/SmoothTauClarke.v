(* Groundwork for T4 of THEORY.md section 5 ("Clarke") over smooth
   pre-activations (issue 18, item 3; the polynomial proof is T4.v, the C1
   output one T4C1.v).  Proved here: the forward values y_k(w), z_k(w) and
   the gradients of the tau_k and of g along w -> (w, z(w)) are continuous
   in w; a parameter that is an own bias of neuron m (st_bias_neuron) moves
   y_m by exactly its change and leaves the earlier neurons alone; hence,
   when every neuron has an own bias, arbitrarily close to w there are
   points where every neuron lies strictly inside the piece a vertex
   pattern chooses at w ([st_reach_good], the analogue of T4.v's
   reach_good), and they stay there nearby ([st_good_open]).  T4 itself
   is Theorems/T4SmoothTau.v. *)
From Coq Require Import Reals Lra Lia List FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output C1Algebra
  SmoothTau SmoothTauTheorems T4C1.
Open Scope R_scope.

Section Continuity.
Variable sn : st_network.
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

Lemma st_zvals_continuous (w : vec) (m : nat) : (m <= N)%nat ->
  forall j, continuous_at W (fun v => st_zvals sn v m j) w.
Proof.
  induction m as [|m IH]; intros Hm j; [exact (continuous_at_const W 0 w)|]; cbn [st_zvals].
  destruct (Nat.eq_dec j m) as [->|Hne]; [|apply IH; lia].
  apply (continuous_at_comp W (act_eval (st_sigma sn m))
           (fun v => c1_g (st_tau sn m) (pack W v (st_zvals sn v m)))); [apply act_continuous|].
  apply (continuous_at_comp_pack W N (c1_g (st_tau sn m)) (fun v => st_zvals sn v m) w).
  - apply c1_g_continuous.
  - intros i _; apply IH; lia.
  - intros v i Hi; rewrite !st_zvals_ge by lia; reflexivity.
Qed.

(* F (w, z_<k(w)) is continuous in w for F continuous on R^(W+N) *)
Lemma st_point_comp_continuous (F : vec -> R) (w : vec) (k : nat) : (k <= N)%nat ->
  continuous_at (W + N) F (st_point sn w k) -> continuous_at W (fun v => F (st_point sn v k)) w.
Proof.
  intros Hk HF; apply (continuous_at_comp_pack W N F (fun v => st_zvals sn v k) w HF).
  - intros i _; apply st_zvals_continuous; exact Hk.
  - intros v i Hi; rewrite !st_zvals_ge by lia; reflexivity.
Qed.

Lemma st_preact_continuous (w : vec) (k : nat) : (k < N)%nat ->
  continuous_at W (fun v => st_preact sn v k) w.
Proof. intros Hk; apply st_point_comp_continuous; [lia | apply c1_g_continuous]. Qed.

Lemma st_dw_continuous (w : vec) (k p : nat) : (k < N)%nat ->
  continuous_at W (fun v => st_dw sn v k p) w.
Proof. intros Hk; apply (st_point_comp_continuous (fun u => c1_dg (st_tau sn k) u p)); [lia | apply c1_cont]. Qed.

Lemma st_dz_continuous (w : vec) (k j : nat) : (k < N)%nat ->
  continuous_at W (fun v => st_dz sn v k j) w.
Proof.
  intros Hk; apply (st_point_comp_continuous (fun u => c1_dg (st_tau sn k) u (W + j)%nat)); [lia | apply c1_cont].
Qed.

Lemma st_dgw_continuous (w : vec) (p : nat) : continuous_at W (fun v => st_dgw sn v p) w.
Proof. apply (st_point_comp_continuous (fun u => c1_dg (st_out sn) u p) w N); [lia | apply c1_cont]. Qed.

Lemma st_dgz_continuous (w : vec) (k : nat) : continuous_at W (fun v => st_dgz sn v k) w.
Proof. apply (st_point_comp_continuous (fun u => c1_dg (st_out sn) u (W + k)%nat) w N); [lia | apply c1_cont]. Qed.

End Continuity.

(** * Own biases move one pre-activation *)

Lemma pack_upd (W : nat) (v z : vec) (p : nat) (t : R) : (p < W)%nat ->
  pack W (upd v p t) z = upd (pack W v z) p t.
Proof.
  intros Hp; apply functional_extensionality; intros i; unfold pack, upd.
  destruct (lt_dec i W), (Nat.eq_dec i p); try reflexivity; lia.
Qed.

Section Bias.
Variables (sn : st_network) (m p : nat).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Hypothesis Hm : (m < N)%nat.
Hypothesis Hbias : st_bias_neuron sn m p.

Lemma st_bias_zvals (v : vec) (t : R) (k : nat) : (k <= m)%nat ->
  forall j, st_zvals sn (upd v p t) k j = st_zvals sn v k j.
Proof.
  destruct Hbias as (Hp & _ & Hother).
  induction k as [|k IH]; intros Hk j; [reflexivity|]; cbn [st_zvals].
  destruct (Nat.eq_dec j k) as [->|]; [|apply IH; lia].
  rewrite (functional_extensionality _ _ (IH ltac:(lia))), pack_upd by exact Hp.
  rewrite (Hother k) by lia; reflexivity.
Qed.

Lemma st_bias_preact_below (v : vec) (t : R) (j : nat) : (j < m)%nat ->
  st_preact sn (upd v p t) j = st_preact sn v j.
Proof.
  destruct Hbias as (Hp & _ & Hother); intros Hj; unfold st_preact, st_point.
  rewrite (functional_extensionality _ _ (st_bias_zvals v t j ltac:(lia))), pack_upd by exact Hp.
  apply (Hother j); lia.
Qed.

Lemma st_bias_preact_at (v : vec) (t : R) :
  st_preact sn (upd v p t) m = st_preact sn v m + (t - v p).
Proof.
  destruct Hbias as (Hp & Hself & _); unfold st_preact, st_point.
  rewrite (functional_extensionality _ _ (st_bias_zvals v t m ltac:(lia))), pack_upd by exact Hp.
  rewrite Hself, pack_lt by exact Hp; reflexivity.
Qed.

End Bias.

(** * Reaching the inside of the pieces of a vertex pattern *)

Section Realise.
Variables (sn : st_network) (w : vec) (b : nat -> bool).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Hypothesis Hbias : forall k, (k < N)%nat -> exists p, st_bias_neuron sn k p.

(* the right piece at y_k(w) where b k, else the left one *)
Definition st_vertex_pattern (k : nat) : nat :=
  if b k then right_piece (st_sigma sn k) (st_preact sn w k)
  else left_piece (st_sigma sn k) (st_preact sn w k).

(* near y, the left piece of sigma_j is the chosen one *)
Definition st_good (j : nat) (y : R) : Prop :=
  exists r, 0 < r /\ forall y', Rabs (y' - y) < r -> left_piece (st_sigma sn j) y' = st_vertex_pattern j.

Lemma st_good_near_side (j : nat) :
  exists d, 0 < d /\ forall rho, 0 < rho < d ->
    st_good j (st_preact sn w j + (if b j then rho else - rho)).
Proof.
  unfold st_good, st_vertex_pattern; destruct (b j).
  - destruct (nbelow_right_locally (bps (st_sigma sn j)) (st_preact sn w j)) as [d [Hd H]].
    exists d; split; [exact Hd|]; intros rho Hr; exists (Rmin rho (d - rho)).
    split; [apply Rmin_glb_lt; lra|]; intros y' Hy.
    generalize (Rmin_l rho (d - rho)) (Rmin_r rho (d - rho)); intros.
    apply Rabs_def2 in Hy as [Hy1 Hy2]; unfold left_piece, right_piece; apply H; lra.
  - destruct (nbelow_left_locally (bps (st_sigma sn j)) (st_preact sn w j)) as [d [Hd H]].
    exists d; split; [exact Hd|]; intros rho Hr; exists (Rmin rho (d - rho)).
    split; [apply Rmin_glb_lt; lra|]; intros y' Hy.
    generalize (Rmin_l rho (d - rho)) (Rmin_r rho (d - rho)); intros.
    apply Rabs_def2 in Hy as [Hy1 Hy2]; unfold left_piece; apply H; lra.
Qed.

(* arbitrarily close to w, all neurons below m are strictly inside the chosen pieces *)
Theorem st_reach_good (m : nat) : (m <= N)%nat -> forall eps, 0 < eps ->
  exists h, supported W h /\ norm_max W h < eps /\
    forall j, (j < m)%nat -> st_good j (st_preact sn (vadd w h) j).
Proof.
  induction m as [|m IH]; intros Hm eps He.
  - exists vzero; split; [apply supported_vzero|]; split; [rewrite norm_max_vzero; exact He|].
    intros; lia.
  - destruct (st_good_near_side m) as [d [Hd Hgood]].
    destruct (st_preact_continuous sn w m ltac:(lia) (eps / 4) ltac:(lra)) as [d1 [Hd1 K1]].
    destruct (IH ltac:(lia) (Rmin (eps / 2) d1) ltac:(apply Rmin_glb_lt; lra)) as [h [Hs [Hn Hg]]].
    generalize (Rmin_l (eps / 2) d1) (Rmin_r (eps / 2) d1); intros Hn1 Hn2.
    destruct (Hbias m ltac:(lia)) as [p Hex].
    assert (Hp : (p < W)%nat) by apply Hex.
    set (rho := Rmin (d / 2) (eps / 4)).
    assert (Hrho : 0 < rho <= eps / 4 /\ rho < d).
    { unfold rho; generalize (Rmin_l (d / 2) (eps / 4)) (Rmin_r (d / 2) (eps / 4)); intros.
      repeat split; try lra; apply Rmin_glb_lt; lra. }
    set (v := vadd w h).
    set (delta := st_preact sn w m + (if b m then rho else - rho) - st_preact sn v m).
    assert (Hdelta : Rabs delta < eps / 2).
    { specialize (K1 h Hs ltac:(lra)); apply Rabs_def2 in K1 as [K1a K1b].
      unfold delta, v; destruct (b m); apply Rabs_def1; lra. }
    exists (vadd h (vscale delta (unit_vec p))); split; [|split].
    + apply supported_vadd; [exact Hs | apply supported_vscale, supported_unit_vec, Hp].
    + eapply Rle_lt_trans; [apply norm_max_triangle|].
      rewrite norm_max_scale_unit by exact Hp; lra.
    + assert (Hv : vadd w (vadd h (vscale delta (unit_vec p))) = upd v p (v p + delta)).
      { apply functional_extensionality; intros i; rewrite <- vadd_scale_unit_pointwise; unfold v, vadd; ring. }
      intros j Hj; rewrite Hv.
      destruct (Nat.eq_dec j m) as [->|Hjm].
      * rewrite (st_bias_preact_at sn m p ltac:(lia) Hex v).
        replace (st_preact sn v m + (v p + delta - v p))
          with (st_preact sn w m + (if b m then rho else - rho)) by (unfold delta; ring).
        apply Hgood; lra.
      * rewrite (st_bias_preact_below sn m p ltac:(lia) Hex v _ j) by lia.
        apply Hg; lia.
Qed.

(* when all neurons are strictly inside the chosen pieces at v, they stay there near v *)
Theorem st_good_open (v : vec) :
  (forall j, (j < N)%nat -> st_good j (st_preact sn v j)) ->
  exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    forall j, (j < N)%nat -> left_piece (st_sigma sn j) (st_preact sn (vadd v h) j) = st_vertex_pattern j.
Proof.
  intros Hg.
  assert (H : forall n, (n <= N)%nat -> exists delta, 0 < delta /\
    forall h, supported W h -> norm_max W h < delta ->
      forall j, (j < n)%nat -> left_piece (st_sigma sn j) (st_preact sn (vadd v h) j) = st_vertex_pattern j).
  { induction n as [|m IH]; intros Hm.
    - exists 1; split; [lra | intros; lia].
    - destruct IH as [d1 [Hd1 K1]]; [lia|].
      destruct (Hg m ltac:(lia)) as [r [Hr Kr]].
      destruct (st_preact_continuous sn v m ltac:(lia) r Hr) as [d2 [Hd2 K2]].
      exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|]; intros h Hs Hh j Hj.
      generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros.
      destruct (Nat.eq_dec j m) as [->|];
        [apply Kr, K2; [exact Hs | lra] | apply K1; [exact Hs | lra | lia]]. }
  apply (H N); lia.
Qed.

End Realise.
