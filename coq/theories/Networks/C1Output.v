(* C1 outputs (THEORY.md section 3: "f(w) = g(w, z_1..z_N) with g C1"; issue
   10, item 7).  Network.v's output g is a polynomial [expr]; here g is any C1
   function of the parameters and the neuron outputs, given with its gradient,
   so that MSE, cross-entropy and softmax losses are covered.  The pair (w, z)
   is packed into one vector of R^(W+N) (coordinates 0..W-1: w, W..W+N-1: z),
   so that "C1" is Frechet.v's differentiability on R^(W+N) with a gradient
   that is continuous there.

   The reduction to the polynomial development: at a point w only the values
   of g's partial derivatives at (w, z(w)) enter AD, so AD of the C1 network
   is AD of the polynomial network [net_lin cn w] whose output is the linear
   form sum_j dg/dz_j(w, z(w)) * z_j, plus dg/dw(w, z(w)).  The neuron outputs
   are locally Lipschitz (they are locally one of finitely many smooth
   selections), so g(v, z(v)) - net_lin(v) - dg/dw . v is differentiable at w
   with gradient 0 ([c1_linearisation]).  Hence differentiability of the C1
   network at w is differentiability of net_lin at w, and the theorems of
   section 5 transfer (C1Theorems.v).  A polynomial-output network is an
   instance ([c1_of_net]). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD SelectLocal T5b.
Import ListNotations.
Open Scope R_scope.

(** * Packing (w, z) into R^(W+N) *)

Definition pack (W : nat) (w z : vec) : vec :=
  fun i => if lt_dec i W then w i else z (i - W)%nat.

Lemma pack_lt W w z i : (i < W)%nat -> pack W w z i = w i.
Proof. intros H; unfold pack; destruct (lt_dec i W); [reflexivity | lia]. Qed.

Lemma pack_ge W w z j : pack W w z (W + j)%nat = z j.
Proof. unfold pack; destruct (lt_dec (W + j) W); [lia|]; f_equal; lia. Qed.

Lemma vadd_pack W a b c d : vadd (pack W a b) (pack W c d) = pack W (vadd a c) (vadd b d).
Proof. apply functional_extensionality; intros i; unfold vadd, pack; destruct (lt_dec i W); reflexivity. Qed.

Lemma supported_pack W N h k :
  supported W h -> supported N k -> supported (W + N) (pack W h k).
Proof.
  intros Hh Hk i Hi; unfold pack; destruct (lt_dec i W); [lia|]; apply Hk; lia.
Qed.

Lemma dot_pack_r W N g h k :
  dot (W + N) g (pack W h k) = dot W g h + dot N (fun j => g (W + j)%nat) k.
Proof.
  induction N as [|N IH].
  - rewrite Nat.add_0_r, dot_0, Rplus_0_r; apply dot_ext; [reflexivity|].
    intros i Hi; apply pack_lt, Hi.
  - rewrite Nat.add_succ_r, !dot_S, IH, pack_ge; ring.
Qed.

Lemma norm_max_pack W N h k :
  norm_max (W + N) (pack W h k) <= norm_max W h + norm_max N k.
Proof.
  pose proof (norm_max_nonneg W h); pose proof (norm_max_nonneg N k).
  apply norm_max_le; [lra|]; intros i Hi; unfold pack; destruct (lt_dec i W).
  - pose proof (norm_max_coord W h i l); lra.
  - pose proof (norm_max_coord N k (i - W) ltac:(lia)); lra.
Qed.

(** * C1 outputs and networks with a C1 output *)

(* g on R^(W+N) with its gradient dg, differentiable everywhere, dg continuous *)
Record c1_output (W N : nat) := mk_c1_output {
  c1_g : vec -> R;
  c1_dg : vec -> vec;
  c1_diff : forall u, differentiable_at (W + N) c1_g u (c1_dg u);
  c1_cont : forall u i, continuous_at (W + N) (fun u' => c1_dg u' i) u
}.
Arguments c1_g {W N}.
Arguments c1_dg {W N}.

(* the neurons of cn_net (its polynomial output n_out is not used) and g *)
Record c1_network := mk_c1_network {
  cn_net : network;
  cn_out : c1_output (n_params cn_net) (n_size cn_net)
}.

Definition with_out (net : network) (o : expr) : network :=
  mk_net (n_params net) (n_input net) (n_neurons net) o.

(* the neurons are well formed (the first half of [wf]) *)
Definition wf_neurons (net : network) : Prop :=
  forall k, (k < n_size net)%nat ->
    neurons_below k (tau net k) /\ params_below (n_params net) (tau net k).

(* every neuron has its own bias: [bias_network] of THEORY.md section 3 for
   the neurons alone (the output may use every parameter) *)
Definition bias_neurons (net : network) : Prop := bias_network (with_out net (EConst 0)).

Section C1Net.
Variable cn : c1_network.
Let net := cn_net cn.
Let W := n_params net.
Let N := n_size net.

(* (w, z(w)) and f(w) = g(w, z(w)) *)
Definition c1_point (w : vec) : vec := pack W w (zvec net w).
Definition c1_eval (w : vec) : R := c1_g (cn_out cn) (c1_point w).

(* dg/dw_p and dg/dz_j at (w, z(w)) *)
Definition dgw (w : vec) : vec := fun p => c1_dg (cn_out cn) (c1_point w) p.
Definition dgz (w : vec) : vec := fun j => c1_dg (cn_out cn) (c1_point w) (W + j)%nat.

End C1Net.

(** * The linearised output *)

(* sum_(j<n) c_j z_j *)
Fixpoint lin_out (c : vec) (n : nat) : expr :=
  match n with
  | O => EConst 0
  | S m => EAdd (lin_out c m) (EMul (EConst (c m)) (ENeuron m))
  end.

(* the polynomial network whose output is g linearised at (w, z(w)) in z *)
Definition net_lin (cn : c1_network) (w : vec) : network :=
  with_out (cn_net cn) (lin_out (dgz cn w) (n_size (cn_net cn))).

(* AD of the C1 network with the choice D (THEORY.md section 4 with g C1);
   [ad_c1_eq] and [zbar_c1_eq] below are the defining equations *)
Definition zbar_c1 (cn : c1_network) (D : nat -> R) (w : vec) (k : nat) : R :=
  zbar (net_lin cn w) D w k.
Definition ybar_c1 (cn : c1_network) (D : nat -> R) (w : vec) (k : nat) : R :=
  ybar (net_lin cn w) D w k.
Definition ad_c1 (cn : c1_network) (D : nat -> R) (w : vec) (p : nat) : R :=
  dgw cn w p + ad (net_lin cn w) D w p.
Definition NS_c1 (cn : c1_network) (D : nat -> R) (w : vec) : Prop :=
  exists k, In k (kink_neurons (cn_net cn) w) /\ zbar_c1 cn D w k <> 0.

(** * Basic facts *)

Lemma eval_lin_out x w z c n : eval x w z (lin_out c n) = dot n c z.
Proof. induction n as [|n IH]; simpl; [reflexivity|]; rewrite IH, dot_S; reflexivity. Qed.

Lemma lin_out_no_param p c n : ~ occurs_param p (lin_out c n).
Proof. induction n as [|n IH]; simpl; tauto. Qed.

Lemma lin_out_neurons j c n : occurs_neuron j (lin_out c n) -> (j < n)%nat.
Proof.
  induction n as [|n IH]; simpl; [tauto|]; intros [H|[[]|H]]; [specialize (IH H); lia | lia].
Qed.

Lemma eval_dneuron_lin_out x w z c n k :
  (k < n)%nat -> eval x w z (dneuron k (lin_out c n)) = c k.
Proof.
  induction n as [|n IH]; intros Hk; [lia|]; simpl.
  destruct (Nat.eq_dec n k) as [->|Hne].
  - rewrite dneuron_not_occurs by (intros H; apply lin_out_neurons in H; lia); ring.
  - rewrite IH by lia; ring.
Qed.

Lemma eval_dparam_lin_out x w z c n p : eval x w z (dparam p (lin_out c n)) = 0.
Proof. apply dparam_not_occurs, lin_out_no_param. Qed.

(* changing the output changes no neuron *)
Lemma zvals_with_out net o w n : zvals (with_out net o) w n = zvals net w n.
Proof. induction n as [|n IH]; [reflexivity|]; simpl; rewrite IH; reflexivity. Qed.

Lemma zvec_with_out net o w : zvec (with_out net o) w = zvec net w.
Proof. apply zvals_with_out. Qed.

Lemma preact_with_out net o w k : preact (with_out net o) w k = preact net w k.
Proof. unfold preact; rewrite zvals_with_out; reflexivity. Qed.

Lemma kink_neurons_with_out net o w : kink_neurons (with_out net o) w = kink_neurons net w.
Proof. unfold kink_neurons; apply filter_ext; intros k; rewrite preact_with_out; reflexivity. Qed.

Lemma net_eval_with_out net o w : net_eval (with_out net o) w = eval (n_input net) w (zvec net w) o.
Proof. unfold net_eval; rewrite zvec_with_out; reflexivity. Qed.

Lemma zvec_net_lin cn w v : zvec (net_lin cn w) v = zvec (cn_net cn) v.
Proof. apply zvec_with_out. Qed.

Lemma preact_net_lin cn w v k : preact (net_lin cn w) v k = preact (cn_net cn) v k.
Proof. apply preact_with_out. Qed.

Lemma kink_neurons_net_lin cn w v : kink_neurons (net_lin cn w) v = kink_neurons (cn_net cn) v.
Proof. apply kink_neurons_with_out. Qed.

Lemma wf_with_out net o :
  wf_neurons net -> neurons_below (n_size net) o -> params_below (n_params net) o ->
  wf (with_out net o).
Proof. intros H1 H2 H3; split; [exact H1 | split; assumption]. Qed.

Lemma wf_wf_neurons net : wf net -> wf_neurons net.
Proof. intros [H _]; exact H. Qed.

Lemma wf_net_lin cn w : wf_neurons (cn_net cn) -> wf (net_lin cn w).
Proof.
  intros H; apply wf_with_out; [exact H| |].
  - intros j Hj; apply (lin_out_neurons j (dgz cn w)), Hj.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

(* exclusiveness does not depend on an output without that parameter *)
Lemma exclusive_with_out net o o' p k a r :
  ~ occurs_param p o' ->
  exclusive_param_with (with_out net o) p k a r -> exclusive_param_with (with_out net o') p k a r.
Proof.
  intros Ho (Hp & Hk & Hj & _ & Ha & Hr & Heq).
  repeat split; assumption.
Qed.

Lemma bias_network_with_out net o :
  (forall p, ~ occurs_param p o) -> bias_neurons net -> bias_network (with_out net o).
Proof.
  intros Ho Hb k Hk; destruct (Hb k Hk) as [p [r He]].
  exists p, r; exact (exclusive_with_out net (EConst 0) o p k _ r (Ho p) He).
Qed.

Lemma bias_network_bias_neurons net : bias_network net -> bias_neurons net.
Proof.
  intros Hb k Hk; destruct (Hb k Hk) as [p [r He]]; exists p, r.
  destruct He as (Hp & Hk' & Hj & _ & Ha & Hr & Heq); repeat split; auto.
Qed.

Lemma bias_net_lin cn w : bias_neurons (cn_net cn) -> bias_network (net_lin cn w).
Proof. apply bias_network_with_out; intros p; apply lin_out_no_param. Qed.

(** * The defining equations of AD for a C1 output *)

Section Equations.
Variables (cn : c1_network) (D : nat -> R) (w : vec).
Let net := cn_net cn.

Lemma zbar_c1_eq (k : nat) : (k < n_size net)%nat ->
  zbar_c1 cn D w k = dgz cn w k +
    sum_list (map (fun j => ybar_c1 cn D w j * eval (n_input net) w (zvec net w) (dneuron k (tau net j)))
                  (seq (S k) (n_size net - S k))).
Proof.
  intros Hk; unfold zbar_c1, ybar_c1; rewrite zbar_eq.
  rewrite zvec_net_lin.
  change (n_out (net_lin cn w)) with (lin_out (dgz cn w) (n_size net)).
  rewrite eval_dneuron_lin_out by exact Hk; reflexivity.
Qed.

Lemma ybar_c1_eq (k : nat) : (k < n_size net)%nat ->
  ybar_c1 cn D w k = zbar_c1 cn D w k * dchoice net D w k.
Proof.
  intros Hk; unfold ybar_c1, zbar_c1; rewrite ybar_eq by exact Hk.
  unfold dchoice; rewrite preact_net_lin; reflexivity.
Qed.

Lemma ad_c1_eq (p : nat) :
  ad_c1 cn D w p = dgw cn w p +
    sum_list (map (fun k => ybar_c1 cn D w k * eval (n_input net) w (zvec net w) (dparam p (tau net k)))
                  (seq 0 (n_size net))).
Proof.
  unfold ad_c1, ybar_c1; rewrite ad_eq.
  rewrite zvec_net_lin.
  change (n_out (net_lin cn w)) with (lin_out (dgz cn w) (n_size net)).
  rewrite eval_dparam_lin_out, Rplus_0_l; reflexivity.
Qed.

Lemma NS_c1_iff : NS_c1 cn D w <-> NS (net_lin cn w) D w.
Proof. unfold NS_c1, NS; rewrite kink_neurons_net_lin; reflexivity. Qed.

End Equations.

(** * Neuron outputs are locally Lipschitz *)

(* a function pointwise among finitely many calm functions with its value is calm *)
Lemma calm_uniform {A : Type} W (F : A -> vec -> R) (ss : list A) w :
  (forall s, In s ss -> bounded_by_norm W (fun h => F s (vadd w h) - F s w)) ->
  exists C d, 0 <= C /\ 0 < d /\ forall s, In s ss -> forall h, supported W h -> norm_max W h < d ->
    Rabs (F s (vadd w h) - F s w) <= C * norm_max W h.
Proof.
  induction ss as [|s0 ss IH]; intros H.
  - exists 0, 1; repeat split; [lra | lra | intros s []].
  - destruct IH as [C1 [d1 [HC1 [Hd1 K1]]]]; [intros s Hs; apply H; now right|].
    destruct (H s0 (or_introl eq_refl)) as [C0 [d0 [HC0 [Hd0 K0]]]].
    exists (C0 + C1), (Rmin d0 d1); repeat split; [lra | now apply Rmin_glb_lt|].
    intros s [<-|Hs] h Hs' Hn; pose proof (Rmin_l d0 d1); pose proof (Rmin_r d0 d1);
      pose proof (norm_max_nonneg W h).
    + eapply Rle_trans; [apply K0; [exact Hs' | lra]|]; nra.
    + eapply Rle_trans; [apply K1; [exact Hs | exact Hs' | lra]|]; nra.
Qed.

Lemma calm_selection {A : Type} W (f : vec -> R) (F : A -> vec -> R) (ss : list A) w delta :
  0 < delta ->
  (forall s, In s ss -> bounded_by_norm W (fun h => F s (vadd w h) - F s w)) ->
  (forall s, In s ss -> F s w = f w) ->
  (forall h, supported W h -> norm_max W h < delta -> exists s, In s ss /\ f (vadd w h) = F s (vadd w h)) ->
  bounded_by_norm W (fun h => f (vadd w h) - f w).
Proof.
  intros Hd Hb Hval Hsel.
  destruct (calm_uniform W F ss w Hb) as [C [d [HC [Hd0 K]]]].
  exists C, (Rmin d delta); repeat split; [exact HC | now apply Rmin_glb_lt|].
  intros h Hs Hn; pose proof (Rmin_l d delta); pose proof (Rmin_r d delta).
  destruct (Hsel h Hs ltac:(lra)) as [s [Hin Heq]].
  rewrite Heq, <- (Hval s Hin); apply K; [exact Hin | exact Hs | lra].
Qed.

Lemma zvec_calm (net : network) (w : vec) (j : nat) :
  wf_neurons net -> (j < n_size net)%nat ->
  bounded_by_norm (n_params net) (fun h => zvec net (vadd w h) j - zvec net w j).
Proof.
  intros Hwf Hj.
  set (netj := with_out net (ENeuron j)).
  assert (Hwfj : wf netj).
  { apply wf_with_out; [exact Hwf | |].
    - intros i Hi; simpl in Hi; lia.
    - intros p Hp; simpl in Hp; contradiction. }
  destruct (selection_local netj Hwfj w) as [delta [Hd Hsel]].
  apply (calm_selection (n_params netj) (fun v => zvec net v j)
           (fun s => net_eval (select_net netj s)) (patterns netj w) w delta Hd).
  - intros s Hs; apply (differentiable_at_bounded _ _ _ _ (select_net_differentiable_at netj s w Hwfj)).
  - intros s Hs; rewrite select_net_eval by (now apply patterns_compatible).
    unfold netj; rewrite net_eval_with_out; reflexivity.
  - intros h Hs Hn; destruct (Hsel h Hs Hn) as [s [Hin Heq]]; exists s; split; [exact Hin|].
    rewrite <- Heq; unfold netj; rewrite net_eval_with_out; reflexivity.
Qed.

(* a common Lipschitz bound for finitely many calm functions *)
Lemma calm_vector W N (a : nat -> vec -> R) :
  (forall j, (j < N)%nat -> bounded_by_norm W (a j)) ->
  exists C d, 0 <= C /\ 0 < d /\ forall h, supported W h -> norm_max W h < d ->
    norm_max N (fun j => a j h) <= C * norm_max W h.
Proof.
  induction N as [|N IH]; intros H.
  - exists 0, 1; repeat split; try lra; intros h _ _; rewrite norm_max_0.
    pose proof (norm_max_nonneg W h); nra.
  - destruct IH as [C1 [d1 [HC1 [Hd1 K1]]]]; [intros j Hj; apply H; lia|].
    destruct (H N ltac:(lia)) as [C0 [d0 [HC0 [Hd0 K0]]]].
    exists (C0 + C1), (Rmin d0 d1); repeat split; [lra | now apply Rmin_glb_lt|].
    intros h Hs Hn; pose proof (Rmin_l d0 d1); pose proof (Rmin_r d0 d1);
      pose proof (norm_max_nonneg W h).
    rewrite norm_max_S; apply Rmax_lub.
    + eapply Rle_trans; [apply K1; [exact Hs | lra]|]; nra.
    + eapply Rle_trans; [apply K0; [exact Hs | lra]|]; nra.
Qed.

(** * Composition of a small o with a calm map *)

Lemma small_o_comp_vec (W M : nat) (e : vec -> R) (a : vec -> vec) (C d0 : R) :
  small_o M e -> 0 <= C -> 0 < d0 ->
  (forall h, supported W h -> norm_max W h < d0 ->
     supported M (a h) /\ norm_max M (a h) <= C * norm_max W h) ->
  small_o W (fun h => e (a h)).
Proof.
  intros He HC Hd0 Ha eps Heps.
  destruct (He (eps / (C + 1))) as [d [Hd K]]; [apply Rdiv_lt_0_compat; lra|].
  assert (Hd' : 0 < d / (C + 1)) by (apply Rdiv_lt_0_compat; lra).
  exists (Rmin d0 (d / (C + 1))); split; [now apply Rmin_glb_lt|].
  intros h Hs Hn; pose proof (Rmin_l d0 (d / (C + 1))); pose proof (Rmin_r d0 (d / (C + 1))).
  pose proof (norm_max_nonneg W h).
  destruct (Ha h Hs ltac:(lra)) as [Has Han].
  pose proof (norm_max_nonneg M (a h)).
  eapply Rle_trans; [apply K; [exact Has|]|].
  - eapply Rle_lt_trans; [exact Han|]; rewrite Rmult_comm; apply rescale_lt; lra.
  - eapply Rle_trans; [apply Rmult_le_compat_l; [apply Rlt_le, Rdiv_lt_0_compat; lra | exact Han]|].
    rewrite (Rmult_comm C); apply rescale_le; lra.
Qed.

(** * Small continuity and occurrence facts *)

Lemma sum_list_continuous_at (W : nat) (w : vec) (l : list nat) (F : nat -> vec -> R) :
  (forall i, In i l -> continuous_at W (F i) w) ->
  continuous_at W (fun v => sum_list (map (fun i => F i v) l)) w.
Proof.
  induction l as [|i l IH]; intros H; [exact (continuous_at_const W 0 w)|].
  apply (continuous_at_plus W (F i) (fun v => sum_list (map (fun i => F i v) l)));
    [apply H; now left | apply IH; intros; apply H; now right].
Qed.

Lemma params_below_dparam_c1 (W p : nat) (e : expr) : params_below W e -> params_below W (dparam p e).
Proof. intros H q Hq; apply H; clear H; induction e; simpl in *; tauto. Qed.

Lemma params_below_dneuron_c1 (W j : nat) (e : expr) : params_below W e -> params_below W (dneuron j e).
Proof. intros H q Hq; apply H; clear H; induction e; simpl in *; tauto. Qed.

(** * The linearisation lemma *)

Lemma differentiable_at_dot W c w : differentiable_at W (fun v => dot W c v) w c.
Proof.
  apply (small_o_ext W (fun _ => 0)); [|apply small_o_zero].
  intros h _; rewrite dot_vadd_r; ring.
Qed.

Section Linearisation.
Variable cn : c1_network.
Let net := cn_net cn.
Let W := n_params net.
Let N := n_size net.
Hypothesis Hwf : wf_neurons net.

(* the remainder f(v) - net_lin(v) - dg/dw . v *)
Definition c1_rest (w v : vec) : R :=
  c1_eval cn v - net_eval (net_lin cn w) v - dot W (dgw cn w) v.

Lemma net_lin_eval (w v : vec) : net_eval (net_lin cn w) v = dot N (dgz cn w) (zvec net v).
Proof. unfold net_lin; rewrite net_eval_with_out, eval_lin_out; reflexivity. Qed.

Lemma c1_point_vadd (w h : vec) :
  c1_point cn (vadd w h) =
  vadd (c1_point cn w) (pack W h (fun j => zvec net (vadd w h) j - zvec net w j)).
Proof.
  unfold c1_point; rewrite vadd_pack; f_equal.
  apply functional_extensionality; intros j; unfold vadd; fold net; ring.
Qed.

Theorem c1_linearisation (w : vec) : differentiable_at W (c1_rest w) w vzero.
Proof.
  set (u0 := c1_point cn w).
  set (dz := fun h j => zvec net (vadd w h) j - zvec net w j).
  set (a := fun h => pack W h (dz h)).
  set (E := fun k => c1_g (cn_out cn) (vadd u0 k) - c1_g (cn_out cn) u0 -
                    dot (W + N) (c1_dg (cn_out cn) u0) k).
  assert (HE : small_o (W + N) E) by exact (c1_diff _ _ (cn_out cn) u0).
  destruct (calm_vector W N (fun j h => dz h j)) as [C [d [HC [Hd K]]]].
  { intros j Hj; apply (zvec_calm net w j Hwf Hj). }
  assert (Hcomp : small_o W (fun h => E (a h))).
  { apply (small_o_comp_vec W (W + N) E a (1 + C) d HE ltac:(lra) Hd).
    intros h Hs Hn; split.
    - apply supported_pack; [exact Hs|]; intros j Hj; unfold dz.
      unfold zvec; rewrite !zvals_ge by exact Hj; ring.
    - eapply Rle_trans; [apply norm_max_pack|].
      assert (K' := K h Hs Hn); change (fun j => dz h j) with (dz h) in K'.
      rewrite Rmult_plus_distr_r, Rmult_1_l; lra. }
  apply (small_o_ext W (fun h => E (a h))); [|exact Hcomp].
  intros h _; unfold E, a, c1_rest, c1_eval; cbv beta.
  rewrite dot_vzero_l, (c1_point_vadd w h), !net_lin_eval, dot_pack_r.
  fold u0 dz.
  replace (dot N (dgz cn w) (zvec net (vadd w h))) with
    (dot N (dgz cn w) (zvec net w) + dot N (dgz cn w) (dz h)).
  2:{ rewrite <- dot_vadd_r; apply dot_ext; intros j _; [reflexivity | unfold vadd at 1; unfold dz; ring]. }
  rewrite dot_vadd_r; unfold dgw, dgz; fold u0.
  change (fun j => zvec net (vadd w h) j - zvec net w j) with (dz h).
  change (fun p => c1_dg (cn_out cn) u0 p) with (c1_dg (cn_out cn) u0).
  change (n_params (cn_net cn)) with W; ring.
Qed.

Lemma c1_eval_split (w v : vec) :
  c1_eval cn v = c1_rest w v + net_eval (net_lin cn w) v + dot W (dgw cn w) v.
Proof. unfold c1_rest; ring. Qed.

(* f = g(., z(.)) is differentiable at w with gradient G iff net_lin is, with
   gradient G - dg/dw *)
Theorem c1_differentiable_at_iff (w G : vec) :
  differentiable_at W (c1_eval cn) w G <->
  differentiable_at W (net_eval (net_lin cn w)) w (fun p => G p - dgw cn w p).
Proof.
  split; intros H.
  - apply (differentiable_at_ext W (fun v => (c1_eval cn v - c1_rest w v) - dot W (dgw cn w) v));
      [intros v; unfold c1_rest; ring|].
    eapply differentiable_at_grad_ext;
      [|apply differentiable_at_minus; [apply differentiable_at_minus; [exact H | apply c1_linearisation]
                                       | apply differentiable_at_dot]].
    intros p _; unfold vadd, vscale, vzero; ring.
  - apply (differentiable_at_ext W (fun v => (c1_rest w v + net_eval (net_lin cn w) v) + dot W (dgw cn w) v));
      [intros v; unfold c1_rest; ring|].
    eapply differentiable_at_grad_ext;
      [|apply differentiable_at_plus; [apply differentiable_at_plus; [apply c1_linearisation | exact H]
                                      | apply differentiable_at_dot]].
    intros p _; unfold vadd, vzero; ring.
Qed.

Corollary c1_differentiable_iff (w : vec) :
  differentiable W (c1_eval cn) w <-> differentiable W (net_eval (net_lin cn w)) w.
Proof.
  split; intros [G H].
  - exists (fun p => G p - dgw cn w p); now apply c1_differentiable_at_iff.
  - exists (fun p => G p + dgw cn w p); apply c1_differentiable_at_iff.
    eapply differentiable_at_grad_ext; [|exact H]; intros p _; cbv beta; ring.
Qed.

End Linearisation.
