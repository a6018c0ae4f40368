(* T4 of THEORY.md section 5 ("Clarke") for networks with a C1 output g
   (issue 10, item 7; C1Output.v).  As in T4.v: AD_D f(w) = dg/dw + AD of
   net_lin (the output linearised at w), a convex combination of the vertex
   gradients dg/dw(w) + grad f_s(w) (Clarke.v); each is a limit of gradients
   of f at points w_n -> w where all neurons sit strictly inside the chosen
   pieces (T4.v, reach_good / good_open).  There f = g(v, z_s(v)) near w_n
   with z_s smooth, so f is differentiable at w_n with gradient
   dg/dw(w_n) + sum_j dg/dz_j(w_n) grad z_(s,j)(w_n), which tends to the
   vertex gradient because g is C1 (its gradient is continuous) and the
   selections' gradients are continuous (T4.v). *)
From Coq Require Import Reals Lra Lia List FunctionalExtensionality ClassicalEpsilon.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD SelectLocal T5b Clarke T4
  C1Output.
Import ListNotations.
Open Scope R_scope.

(** * The Clarke subdifferential of a function of R^W *)

Definition clarke_limit_fun (W : nat) (f : vec -> R) (w G : vec) : Prop :=
  exists wn gn : nat -> vec,
    (forall eps, 0 < eps -> exists N, forall n, (N <= n)%nat ->
       norm_max W (fun i => wn n i - w i) < eps) /\
    (forall n, differentiable_at W f (wn n) (gn n)) /\
    (forall p, (p < W)%nat -> forall eps, 0 < eps ->
       exists N, forall n, (N <= n)%nat -> Rabs (gn n p - G p) < eps).

Definition in_clarke_fun (W : nat) (f : vec -> R) (w g : vec) : Prop :=
  exists cs : list (R * vec),
    (forall c, In c cs -> 0 <= fst c /\ clarke_limit_fun W f w (snd c)) /\
    sum_list (map fst cs) = 1 /\
    forall p, (p < W)%nat -> g p = sum_list (map (fun c => fst c * snd c p) cs).

(* Clarke.v's set for a network is this set for its function *)
Lemma in_clarke_fun_net (net : network) (w g : vec) :
  in_clarke net w g <-> in_clarke_fun (n_params net) (net_eval net) w g.
Proof. reflexivity. Qed.

(** * Linear outputs: back-propagation is a weighted sum of tangents *)

Lemma zdots_with_out (X : network) (o : expr) (sl : nat -> R) (v h : vec) (n : nat) :
  zdots (with_out X o) sl v h n = zdots X sl v h n.
Proof.
  induction n as [|n IH]; [reflexivity|]; simpl; rewrite IH.
  unfold tau_dir, dz_coef, dw_coef; rewrite zvec_with_out; reflexivity.
Qed.

Lemma zdot_with_out (X : network) (o : expr) (sl : nat -> R) (v h : vec) (j : nat) :
  zdot (with_out X o) sl v h j = zdot X sl v h j.
Proof. apply (f_equal (fun f => f j)), zdots_with_out. Qed.

Lemma sumn_unit_zero (W p : nat) : sumn W (fun i => unit_vec p i * 0) = 0.
Proof. rewrite (sumn_ext W _ (fun i => 0 * 0)) by (intros; ring); rewrite sumn_scal; ring. Qed.

Lemma grad_sl_lin_out (X : network) (c : vec) (sl : nat -> R) (v : vec) (p : nat) :
  wf_neurons X -> (p < n_params X)%nat ->
  grad_sl (with_out X (lin_out c (n_size X))) sl v p =
  sumn (n_size X) (fun j => zdot X sl v (unit_vec p) j * c j).
Proof.
  intros Hwf Hp.
  assert (Hw : wf (with_out X (lin_out c (n_size X)))).
  { apply wf_with_out; [exact Hwf | intros j Hj; exact (lin_out_neurons j c _ Hj)
                       | intros q Hq; apply lin_out_no_param in Hq; contradiction]. }
  rewrite <- (forward_reverse_unit _ Hw sl v p Hp); unfold fdot.
  cbn [n_out with_out n_params]; rewrite zvec_with_out.
  rewrite (sumn_ext _ _ (fun i => unit_vec p i * 0)) by (intros; rewrite eval_dparam_lin_out; ring).
  rewrite sumn_unit_zero, Rplus_0_l.
  change (n_size (with_out X (lin_out c (n_size X)))) with (n_size X).
  apply sumn_ext; intros j Hj; rewrite zdot_with_out, eval_dneuron_lin_out by exact Hj; reflexivity.
Qed.

Lemma sumn_indicator (n j : nat) (f : nat -> R) :
  (j < n)%nat -> sumn n (fun i => f i * (if Nat.eq_dec i j then 1 else 0)) = f j.
Proof.
  intros Hj; rewrite <- (sum_list_map_indicator (seq 0 n) j f (seq_NoDup _ _)) by (apply in_seq; lia).
  apply sumn_ext; intros i _; destruct (Nat.eq_dec i j), (Nat.eq_dec j i); subst; try congruence; ring.
Qed.

(* the tangent of z_j along e_p is the gradient of the network with output z_j *)
Lemma zdot_as_grad (X : network) (sl : nat -> R) (v : vec) (p j : nat) :
  wf_neurons X -> (p < n_params X)%nat -> (j < n_size X)%nat ->
  zdot X sl v (unit_vec p) j = grad_sl (with_out X (ENeuron j)) sl v p.
Proof.
  intros Hwf Hp Hj.
  assert (Hw : wf (with_out X (ENeuron j))).
  { apply wf_with_out; [exact Hwf | intros i Hi; simpl in Hi; lia | intros q Hq; simpl in Hq; contradiction]. }
  rewrite <- (forward_reverse_unit _ Hw sl v p Hp); unfold fdot.
  cbn [n_out with_out n_params dparam dneuron eval].
  rewrite sumn_unit_zero, Rplus_0_l.
  change (n_size (with_out X (ENeuron j))) with (n_size X).
  rewrite <- (sumn_indicator (n_size X) j (fun i => zdot X sl v (unit_vec p) i)) by exact Hj.
  apply sumn_ext; intros i _; rewrite zdot_with_out.
  destruct (Nat.eq_dec i j), (Nat.eq_dec j i); subst; try congruence; cbn [eval]; ring.
Qed.

Lemma select_net_with_out (X : network) (o : expr) (s : nat -> nat) :
  select_net (with_out X o) s = with_out (select_net X s) o.
Proof. reflexivity. Qed.

Lemma piece_slopes_with_out (X : network) (o : expr) (s : nat -> nat) (v : vec) (k : nat) :
  piece_slopes (with_out X o) s v k = piece_slopes X s v k.
Proof. unfold piece_slopes; rewrite select_net_with_out, preact_with_out; reflexivity. Qed.

(** * Continuity of g's gradient along w -> (w, z(w)) *)

Lemma all_close (W N : nat) (F : nat -> vec -> R) (w : vec) (eps : R) : 0 < eps ->
  (forall j, (j < N)%nat -> continuous_at W (F j) w) ->
  exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    forall j, (j < N)%nat -> Rabs (F j (vadd w h) - F j w) < eps.
Proof.
  intros He; induction N as [|N IH]; intros Hc.
  - exists 1; split; [lra | intros; lia].
  - destruct IH as [d1 [Hd1 K1]]; [intros; apply Hc; lia|].
    destruct (Hc N ltac:(lia) eps He) as [d2 [Hd2 K2]].
    exists (Rmin d1 d2); split; [now apply Rmin_glb_lt|]; intros h Hs Hh j Hj.
    generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros.
    destruct (Nat.eq_dec j N) as [->|]; [apply K2 | apply K1]; auto; [lra | lra | lia].
Qed.

Lemma continuous_at_comp_pack (W N : nat) (F : vec -> R) (Z : vec -> vec) (w : vec) :
  continuous_at (W + N) F (pack W w (Z w)) ->
  (forall j, (j < N)%nat -> continuous_at W (fun v => Z v j) w) ->
  (forall v j, (N <= j)%nat -> Z v j = Z w j) ->
  continuous_at W (fun v => F (pack W v (Z v))) w.
Proof.
  intros HF HZ HN eps He.
  destruct (HF eps He) as [d1 [Hd1 K1]].
  destruct (all_close W N (fun j v => Z v j) w (d1 / 2) ltac:(lra) HZ) as [d2 [Hd2 K2]].
  exists (Rmin (d1 / 2) d2); split; [apply Rmin_glb_lt; lra|]; intros h Hs Hh.
  generalize (Rmin_l (d1 / 2) d2) (Rmin_r (d1 / 2) d2); intros.
  set (dz := fun j => Z (vadd w h) j - Z w j).
  replace (pack W (vadd w h) (Z (vadd w h))) with (vadd (pack W w (Z w)) (pack W h dz)).
  2:{ rewrite vadd_pack; f_equal; apply functional_extensionality; intros j; unfold vadd at 1; unfold dz; ring. }
  apply K1.
  - apply supported_pack; [exact Hs|]; intros j Hj; unfold dz; rewrite HN by exact Hj; ring.
  - eapply Rle_lt_trans; [apply norm_max_pack|].
    assert (norm_max N dz < d1 / 2).
    { apply norm_max_lt; [lra|]; intros j Hj; apply K2; [exact Hs | lra | exact Hj]. }
    lra.
Qed.

Section C1Clarke.
Variable cn : c1_network.
Let net := cn_net cn.
Let W := n_params net.
Let N := n_size net.
Let net0 := with_out net (EConst 0).
Hypothesis Hwf : wf_neurons net.

Lemma wf_net0 : wf net0.
Proof.
  apply wf_with_out; [exact Hwf | intros j Hj; simpl in Hj; contradiction
                     | intros q Hq; simpl in Hq; contradiction].
Qed.

Lemma dg_continuous (w : vec) (i : nat) :
  continuous_at W (fun v => c1_dg (cn_out cn) (c1_point cn v) i) w.
Proof.
  unfold c1_point; apply (continuous_at_comp_pack W N (fun u => c1_dg (cn_out cn) u i) (zvec net) w).
  - apply c1_cont.
  - intros j _; apply (continuous_at_ext _ (fun v => zvec net0 v j)); [intros v; unfold net0; rewrite zvec_with_out; reflexivity|].
    apply (zvec_continuous net0 w wf_net0).
  - intros v j Hj; unfold zvec; rewrite !zvals_ge by exact Hj; reflexivity.
Qed.

(** * One vertex *)

Variables (w : vec) (b : nat -> bool).
Let s := vertex_pattern net0 w b.
Let Ssel := select_net net0 s.

Lemma wf_S : wf Ssel.
Proof. apply select_net_wf, wf_net0. Qed.

Lemma size_S : n_size Ssel = N.
Proof. apply select_size. Qed.

(* the candidate gradient of f at v for the pattern s *)
Definition vgrad (v : vec) (p : nat) : R :=
  dgw cn v p + sumn N (fun j => dgz cn v j * grad_sl (with_out Ssel (ENeuron j)) (piece_slopes net0 s v) v p).

Lemma vgrad_continuous (p : nat) : continuous_at W (fun v => vgrad v p) w.
Proof.
  unfold vgrad; apply (continuous_at_plus W (fun v => dgw cn v p)); [apply dg_continuous|].
  apply (sum_list_continuous W w (seq 0 N)
           (fun j v => dgz cn v j * grad_sl (with_out Ssel (ENeuron j)) (piece_slopes net0 s v) v p)).
  intros j Hj; apply in_seq in Hj.
  apply (continuous_at_mult W (fun v => dgz cn v j)); [apply dg_continuous|].
  assert (Hwj : wf (with_out Ssel (ENeuron j))).
  { apply wf_with_out; [exact (proj1 wf_S) | intros i Hi; simpl in Hi; rewrite size_S; lia
                       | intros q Hq; simpl in Hq; contradiction]. }
  apply (grad_sl_continuous (with_out Ssel (ENeuron j)) w Hwj (fun v k => piece_slopes net0 s v k)).
  intros k Hk; change (n_size (with_out Ssel (ENeuron j))) with (n_size Ssel) in Hk; rewrite size_S in Hk.
  apply (piece_slopes_continuous net0 s w k wf_net0 Hk).
Qed.

(* the gradient of the linearised network at a point where s is compatible *)
Lemma grad_sl_net_lin_select (v u : vec) (p : nat) : (p < W)%nat -> compatible net0 s u ->
  grad_sl (with_out Ssel (lin_out (dgz cn v) N)) (piece_slopes net0 s u) u p =
  sumn N (fun j => dgz cn v j * grad_sl (with_out Ssel (ENeuron j)) (piece_slopes net0 s u) u p).
Proof.
  intros Hp Hc; rewrite <- size_S, grad_sl_lin_out by (exact (proj1 wf_S) || exact Hp).
  apply sumn_ext; intros j Hj; rewrite zdot_as_grad by (exact (proj1 wf_S) || exact Hp || exact Hj).
  ring.
Qed.

Lemma vertex_pattern_net_lin : vertex_pattern (net_lin cn w) w b = s.
Proof.
  apply functional_extensionality; intros k; unfold s, vertex_pattern.
  rewrite preact_net_lin; unfold net0; rewrite preact_with_out; reflexivity.
Qed.

Lemma vgrad_at_w (p : nat) : (p < W)%nat ->
  vgrad w p = dgw cn w p + vertex_grad (net_lin cn w) w b p.
Proof.
  intros Hp; unfold vgrad, vertex_grad; rewrite vertex_pattern_net_lin; f_equal.
  assert (Hc : compatible net0 s w) by apply vertex_pattern_compatible.
  rewrite <- (grad_sl_net_lin_select w w p Hp Hc).
  rewrite <- (select_grad (net_lin cn w) s w);
    [|intros k Hk; rewrite preact_net_lin; generalize (Hc k Hk); unfold net0; rewrite preact_with_out; auto].
  replace (piece_slopes (net_lin cn w) s w) with (piece_slopes net0 s w); [reflexivity|].
  apply functional_extensionality; intros k; unfold net_lin, net0; rewrite !piece_slopes_with_out; reflexivity.
Qed.

(* at a point where every neuron is strictly inside its chosen piece, f is
   differentiable with gradient vgrad *)
Lemma vgrad_differentiable (v : vec) :
  (forall j, (j < n_size net0)%nat -> good net0 w b j (preact net0 v j)) ->
  differentiable_at W (c1_eval cn) v (vgrad v).
Proof.
  intros Hg; destruct (good_open net0 w b wf_net0 v Hg) as [d [Hd K]].
  apply (c1_differentiable_at_iff cn Hwf v).
  set (c := dgz cn v).
  assert (HwL : wf (with_out Ssel (lin_out c N))).
  { apply wf_with_out; [exact (proj1 wf_S) | intros j Hj; rewrite size_S; exact (lin_out_neurons j c N Hj)
                       | intros q Hq; apply lin_out_no_param in Hq; contradiction]. }
  assert (Hcv : compatible net0 s v).
  { intros k Hk; left; symmetry; rewrite <- (vadd_vzero_r v); apply K;
      [apply supported_vzero | rewrite norm_max_vzero; exact Hd | exact Hk]. }
  apply (differentiable_at_local_ext W (net_eval (with_out Ssel (lin_out c N)))
           (net_eval (net_lin cn v)) v _ d Hd).
  - intros h Hs Hh; unfold net_lin; rewrite !net_eval_with_out, !eval_lin_out.
    apply dot_ext; [reflexivity|]; intros j _.
    unfold Ssel; replace (select_net net0 s) with (select_net net0 (pattern_at net0 (vadd v h)))
      by (apply select_net_ext; intros k Hk; unfold pattern_at; apply K; assumption).
    rewrite select_zvec by apply pattern_at_compatible; unfold net0; rewrite zvec_with_out; reflexivity.
  - eapply differentiable_at_grad_ext; [|apply (net_differentiable_at_grad_sl _ (piece_slopes net0 s v) v HwL)].
    + intros p Hp; cbv beta; unfold vgrad; unfold c; rewrite (grad_sl_net_lin_select v v p Hp Hcv); ring.
    + intros k Hk; change (n_size (with_out Ssel (lin_out c N))) with (n_size Ssel) in Hk; rewrite size_S in Hk.
      change (sigma (with_out Ssel (lin_out c N)) k) with (sigma Ssel k).
      unfold Ssel; rewrite (select_sigma net0 s k Hk).
      unfold piece_slopes; rewrite preact_with_out; apply piece_derive.
Qed.

(* each vertex gradient dg/dw + grad f_s(w) is a limit of gradients of f *)
Theorem c1_vertex_clarke_limit :
  bias_neurons net -> clarke_limit_fun W (c1_eval cn) w (fun p => dgw cn w p + vertex_grad (net_lin cn w) w b p).
Proof.
  intros Hb.
  assert (Hseq : forall n : nat, exists h, supported W h /\ norm_max W h < / INR (S n) /\
            forall j, (j < n_size net0)%nat -> good net0 w b j (preact net0 (vadd w h) j)).
  { intros n; apply (reach_good net0 w b wf_net0 Hb); [lia | apply Rinv_0_lt_compat, lt_0_INR; lia]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported W (hs n) /\ norm_max W (hs n) < / INR (S n) /\
            forall j, (j < n_size net0)%nat -> good net0 w b j (preact net0 (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  exists (fun n => vadd w (hs n)), (fun n => vgrad (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [M HM]; exists M; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply Hhs | apply HM, Hn].
  - intros n; apply vgrad_differentiable, Hhs.
  - intros p Hp eps He.
    destruct (vgrad_continuous p eps He) as [d [Hd K]].
    destruct (inv_S_small d Hd) as [M HM]; exists M; intros n Hn.
    rewrite <- (vgrad_at_w p Hp).
    apply K; [apply Hhs | eapply Rlt_trans; [apply Hhs | apply HM, Hn]].
Qed.

End C1Clarke.

(** * T4 for C1 outputs *)

Lemma sum_list_map_plus {A : Type} (f g : A -> R) (l : list A) :
  sum_list (map (fun a => f a + g a) l) = sum_list (map f l) + sum_list (map g l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Theorem T4_c1_ad_in_clarke (cn : c1_network) (D : nat -> R) (w : vec) :
  wf_neurons (cn_net cn) -> bias_neurons (cn_net cn) ->
  (forall k, In k (kink_neurons (cn_net cn) w) ->
     Rmin (slope_left (sigma (cn_net cn) k) (preact (cn_net cn) w k))
          (slope_right (sigma (cn_net cn) k) (preact (cn_net cn) w k)) <= D k <=
     Rmax (slope_left (sigma (cn_net cn) k) (preact (cn_net cn) w k))
          (slope_right (sigma (cn_net cn) k) (preact (cn_net cn) w k))) ->
  in_clarke_fun (n_params (cn_net cn)) (c1_eval cn) w (ad_c1 cn D w).
Proof.
  intros Hwf Hb HD.
  set (L := net_lin cn w).
  assert (HD' : forall k, In k (kink_neurons L w) -> between_slopes L w D k).
  { intros k Hk; unfold L in Hk; rewrite kink_neurons_net_lin in Hk.
    unfold between_slopes, slope_L, slope_R, L; rewrite preact_net_lin; apply HD, Hk. }
  destruct (ad_convex_combination_of_vertex_grads L w D HD') as [cs [H0 [H1 H]]].
  exists (map (fun c => (fst c, fun p => dgw cn w p + vertex_grad L w (snd c) p)) cs).
  split; [|split].
  - intros c Hc; apply in_map_iff in Hc as [c' [<- Hc']]; cbn [fst snd].
    split; [now apply H0 | now apply c1_vertex_clarke_limit].
  - rewrite map_map; exact H1.
  - intros p _; unfold ad_c1; rewrite H, map_map; cbn [fst snd].
    transitivity (sum_list (map (fun c => fst c * dgw cn w p) cs) +
                  sum_list (map (fun c => fst c * vertex_grad L w (snd c) p) cs)).
    + rewrite (sum_list_map_ext (fun c => fst c * dgw cn w p) (fun c => dgw cn w p * fst c))
        by (intros; ring).
      rewrite sum_list_map_scal, H1; ring.
    + rewrite <- sum_list_map_plus; apply sum_list_map_ext; intros c _; ring.
Qed.
