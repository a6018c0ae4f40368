(* Smooth pre-activations (THEORY.md section 3: "y_k = tau_k(w, z_1..z_(k-1))"
   with tau_k any C1 function; issue 18, item 3).  Network.v's tau_k are
   polynomial [expr]s; here neuron k carries any C1 function tau_k of the
   parameters and the earlier outputs, given with its gradient (a
   [c1_output], as the output g of C1Output.v), read on the packed vector
   (w, z) of R^(W+N) whose coordinates z_j, j >= k, are 0.

   The reduction to the polynomial development: at a point w only the
   values and the gradients of the tau_k at (w, z(w)) enter AD, so AD of the
   smooth network is AD of the polynomial network [lin_net sn w] whose
   neurons are the first-order Taylor polynomials of the tau_k at
   (w, z_<k(w)) (affine [expr]s), with the same activations and output.
   Every output and pre-activation of the smooth network differs from the
   one of [lin_net sn w] by o(|v - w|) ([st_lin_post_close]): tau_k is
   differentiable at (w, z(w)), the outputs are calm, and an activation is,
   near y_k(w), its one-sided linearisation up to o (it is Lipschitz there).
   Hence f and the C1 network [lin_c1 sn w] have the same derivative at w
   ([st_differentiable_at_iff]), and T1, T3, T5(b), T5(c) transfer
   (Theorems/SmoothTauTheorems.v). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output.
Import ListNotations.
Open Scope R_scope.

(** * Smooth-tau networks *)

(* W parameters, N neurons; neuron k: tau_k on R^(W+N) (it reads z_<k, the
   other z coordinates being 0) and sigma_k; the C1 output g *)
Record st_network := mk_st_network {
  st_W : nat;
  st_N : nat;
  st_tau : nat -> c1_output st_W st_N;
  st_sigma : nat -> activation;
  st_out : c1_output st_W st_N
}.

Section Forward.
Variable sn : st_network.
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

(* outputs of neurons 0 .. n-1 (0 from n on) *)
Fixpoint st_zvals (w : vec) (n : nat) : vec :=
  match n with
  | O => fun _ => 0
  | S m => let zm := st_zvals w m in
      fun j => if Nat.eq_dec j m
               then act_eval (st_sigma sn m) (c1_g (st_tau sn m) (pack W w zm))
               else zm j
  end.

(* (w, z_<k(w)), y_k(w), z_k(w), z(w) and f(w) = g(w, z(w)) *)
Definition st_point (w : vec) (k : nat) : vec := pack W w (st_zvals w k).
Definition st_preact (w : vec) (k : nat) : R := c1_g (st_tau sn k) (st_point w k).
Definition st_post (w : vec) (k : nat) : R := act_eval (st_sigma sn k) (st_preact w k).
Definition st_zvec (w : vec) : vec := st_zvals w N.
Definition st_eval (w : vec) : R := c1_g (st_out sn) (pack W w (st_zvec w)).

(* K(w) *)
Definition st_kink_neurons (w : vec) : list nat :=
  filter (fun k => if in_dec Req_EM_T (st_preact w k) (kinks (st_sigma sn k)) then true else false)
    (seq 0 N).

(* d tau_k / d w_p and d tau_k / d z_j at (w, z_<k(w)) *)
Definition st_dw (w : vec) (k p : nat) : R := c1_dg (st_tau sn k) (st_point w k) p.
Definition st_dz (w : vec) (k j : nat) : R := c1_dg (st_tau sn k) (st_point w k) (W + j)%nat.

End Forward.

(** * The linearised network at w *)

(* sum_(p<n) a_p w_p, the terms with a_p = 0 left out *)
Fixpoint lin_params (a : vec) (n : nat) : expr :=
  match n with
  | O => EConst 0
  | S m => EAdd (lin_params a m)
             (if Req_EM_T (a m) 0 then EConst 0 else EMul (EConst (a m)) (EParam m))
  end.

Section Lin.
Variables (sn : st_network) (w : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

(* the constant term of the Taylor polynomial of tau_k at (w, z_<k(w)) *)
Definition lin_const (k : nat) : R :=
  st_preact sn w k - dot W (st_dw sn w k) w - dot k (st_dz sn w k) (st_zvals sn w k).

(* tau_k(w, z) + dtau_k/dw . (v - w) + dtau_k/dz . (z' - z) *)
Definition lin_tau (k : nat) : expr :=
  EAdd (EConst (lin_const k)) (EAdd (lin_params (st_dw sn w k) W) (lin_out (st_dz sn w k) k)).

Definition lin_net : network :=
  mk_net W (fun _ => 0) (map (fun k => (lin_tau k, st_sigma sn k)) (seq 0 N)) (EConst 0).

Lemma lin_net_size : n_size lin_net = N.
Proof. unfold n_size; simpl; rewrite map_length, seq_length; reflexivity. Qed.

End Lin.

Definition c1_output_cast {W N N' : nat} (H : N = N') (o : c1_output W N) : c1_output W N'.
Proof.
  refine (mk_c1_output W N' (c1_g o) (c1_dg o) _ _); subst N';
    [exact (c1_diff _ _ o) | exact (c1_cont _ _ o)].
Defined.

(* the C1 network with the linearised neurons and the output g *)
Definition lin_c1 (sn : st_network) (w : vec) : c1_network :=
  mk_c1_network (lin_net sn w) (c1_output_cast (eq_sym (lin_net_size sn w)) (st_out sn)).

(** * AD of a smooth-tau network *)

(* AD with the choice D: back-propagation through the gradients of the tau_k
   at (w, z(w)), i.e. AD of the linearised network (defining equations
   [st_zbar_eq], [st_ybar_eq], [st_ad_eq] below) *)
Definition st_zbar (sn : st_network) (D : nat -> R) (w : vec) (k : nat) : R := zbar_c1 (lin_c1 sn w) D w k.
Definition st_ybar (sn : st_network) (D : nat -> R) (w : vec) (k : nat) : R := ybar_c1 (lin_c1 sn w) D w k.
Definition st_ad (sn : st_network) (D : nat -> R) (w : vec) (p : nat) : R := ad_c1 (lin_c1 sn w) D w p.
Definition st_NS (sn : st_network) (D : nat -> R) (w : vec) : Prop :=
  exists k, In k (st_kink_neurons sn w) /\ st_zbar sn D w k <> 0.

(** * Basic facts *)

Lemma st_zvals_lt sn w n j : (j < n)%nat -> st_zvals sn w n j = st_post sn w j.
Proof.
  induction n as [|m IH]; intros Hj; [lia|]; simpl.
  destruct (Nat.eq_dec j m) as [->|Hne]; [reflexivity|]. apply IH; lia.
Qed.

Lemma st_zvals_ge sn w n j : (n <= j)%nat -> st_zvals sn w n j = 0.
Proof.
  induction n as [|m IH]; intros Hj; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j m); [lia|]. apply IH; lia.
Qed.

Lemma eval_lin_params x v z a n : eval x v z (lin_params a n) = dot n a v.
Proof.
  induction n as [|n IH]; simpl; [reflexivity|]; rewrite IH, dot_S.
  destruct (Req_EM_T (a n) 0) as [->|]; simpl; ring.
Qed.

Lemma lin_params_no_neuron j a n : ~ occurs_neuron j (lin_params a n).
Proof.
  induction n as [|n IH]; simpl; [tauto|]; destruct (Req_EM_T (a n) 0); simpl; tauto.
Qed.

Lemma lin_params_occurs p a n : occurs_param p (lin_params a n) -> (p < n)%nat /\ a p <> 0.
Proof.
  induction n as [|n IH]; simpl; [tauto|]; intros [H|H].
  - destruct (IH H); split; [lia | assumption].
  - destruct (Req_EM_T (a n) 0) as [|Hne]; simpl in H; [tauto|].
    destruct H as [[]|<-]; split; [lia | exact Hne].
Qed.

Section LinFacts.
Variables (sn : st_network) (w : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Local Notation P := (lin_net sn w).

Lemma lin_tau_nth k : (k < N)%nat -> tau P k = lin_tau sn w k.
Proof. intros Hk; unfold tau, lin_net; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma lin_sigma_nth k : (k < N)%nat -> sigma P k = st_sigma sn k.
Proof. intros Hk; unfold sigma, lin_net; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma eval_lin_tau x v z k :
  eval x v z (lin_tau sn w k) = lin_const sn w k + dot W (st_dw sn w k) v + dot k (st_dz sn w k) z.
Proof. unfold lin_tau; simpl; rewrite eval_lin_params, eval_lin_out; ring. Qed.

Lemma lin_wf_neurons : wf_neurons P.
Proof.
  intros k Hk; rewrite lin_net_size in Hk; rewrite lin_tau_nth by exact Hk.
  split.
  - intros j Hj; unfold lin_tau in Hj; simpl in Hj.
    destruct Hj as [[]|[Hj|Hj]]; [apply lin_params_no_neuron in Hj; contradiction|].
    exact (lin_out_neurons j _ _ Hj).
  - intros p Hp; unfold lin_tau in Hp; simpl in Hp.
    destruct Hp as [[]|[Hp|Hp]]; [apply lin_params_occurs in Hp; tauto|].
    apply lin_out_no_param in Hp; contradiction.
Qed.

End LinFacts.

(** * Little-o helpers *)

Lemma so_ext W e1 e2 : (forall h, e2 h = e1 h) -> small_o W e1 -> small_o W e2.
Proof. intros E; apply small_o_ext; intros h _; symmetry; apply E. Qed.

Lemma small_o_at_zero W e : small_o W e -> e vzero = 0.
Proof.
  intros H; apply Rabs_le_all_eps_0; intros eps Heps.
  destruct (H eps Heps) as [d [Hd K]].
  specialize (K vzero (supported_vzero W) ltac:(rewrite norm_max_vzero; exact Hd)).
  rewrite norm_max_vzero, Rmult_0_r in K; lra.
Qed.

Lemma small_o_le W e e' M :
  small_o W e -> 0 <= M -> (forall h, Rabs (e' h) <= M * Rabs (e h)) -> small_o W e'.
Proof.
  intros He HM Hle eps Heps; destruct (small_o_scal W M e He eps Heps) as [d [Hd K]].
  exists d; split; [exact Hd|]; intros h Hs Hn; specialize (K h Hs Hn); cbv beta in K.
  rewrite Rabs_mult, (Rabs_pos_eq M HM) in K; eapply Rle_trans; [apply Hle | exact K].
Qed.

Lemma bounded_le W a a' M :
  bounded_by_norm W a -> 0 <= M -> (forall h, Rabs (a' h) <= M * Rabs (a h)) -> bounded_by_norm W a'.
Proof.
  intros [C [d [HC [Hd K]]]] HM Hle; exists (M * C), d; repeat split; [nra | exact Hd|].
  intros h Hs Hn; specialize (K h Hs Hn); eapply Rle_trans; [apply Hle|].
  rewrite Rmult_assoc; apply Rmult_le_compat_l; assumption.
Qed.

Lemma small_o_minus W e1 e2 : small_o W e1 -> small_o W e2 -> small_o W (fun h => e1 h - e2 h).
Proof.
  intros H1 H2; apply (so_ext W (fun h => e1 h + (-1) * e2 h));
    [intros; ring | apply small_o_plus; [exact H1 | apply small_o_scal, H2]].
Qed.

Lemma bounded_minus W a b :
  bounded_by_norm W a -> bounded_by_norm W b -> bounded_by_norm W (fun h => a h - b h).
Proof.
  intros Ha Hb; apply (bounded_le W (fun h => a h + (-1) * b h) _ 1); [|lra|intros h; replace (a h + -1 * b h) with (a h - b h) by ring; lra].
  apply bounded_plus; [exact Ha|]; apply (bounded_le W b _ 1); [exact Hb | lra|].
  intros h; rewrite Rabs_mult; replace (Rabs (-1)) with 1 by (rewrite Rabs_left by lra; ring); lra.
Qed.

Lemma bounded_ext W a a' : (forall h, a' h = a h) -> bounded_by_norm W a -> bounded_by_norm W a'.
Proof. intros E Ha; apply (bounded_le W a a' 1); [exact Ha | lra | intros h; rewrite E; lra]. Qed.

Lemma bounded_zero W : bounded_by_norm W (fun _ => 0).
Proof.
  exists 0, 1; repeat split; try lra; intros h _ _; rewrite Rabs_R0.
  pose proof (norm_max_nonneg W h); nra.
Qed.

(* sum_(j<n) c_j e_j(h) is o(|h|) when every e_j is *)
Lemma small_o_dot W n c (e : vec -> vec) :
  (forall j, (j < n)%nat -> small_o W (fun h => e h j)) -> small_o W (fun h => dot n c (e h)).
Proof.
  induction n as [|n IH]; intros H.
  - apply (so_ext W (fun _ => 0)); [intros; apply dot_0 | apply small_o_zero].
  - apply (so_ext W (fun h => dot n c (e h) + c n * e h n)); [intros; apply dot_S|].
    apply small_o_plus; [apply IH; intros; apply H; lia | apply small_o_scal, H; lia].
Qed.

(* a calm function composed with a calm map *)
Lemma bounded_comp_vec (W M : nat) (e : vec -> R) (a : vec -> vec) (C d0 : R) :
  bounded_by_norm M e -> 0 <= C -> 0 < d0 ->
  (forall h, supported W h -> norm_max W h < d0 ->
     supported M (a h) /\ norm_max M (a h) <= C * norm_max W h) ->
  bounded_by_norm W (fun h => e (a h)).
Proof.
  intros [Ce [de [HCe [Hde Ke]]]] HC Hd0 Ha.
  assert (Hd' : 0 < de / (C + 1)) by (apply Rdiv_lt_0_compat; lra).
  exists (Ce * C), (Rmin d0 (de / (C + 1))); repeat split; [nra | now apply Rmin_glb_lt|].
  intros h Hs Hn; pose proof (Rmin_l d0 (de / (C + 1))); pose proof (Rmin_r d0 (de / (C + 1))).
  pose proof (norm_max_nonneg W h).
  destruct (Ha h Hs ltac:(lra)) as [Has Han].
  eapply Rle_trans; [apply Ke; [exact Has|]|].
  - eapply Rle_lt_trans; [exact Han|]; rewrite Rmult_comm; apply rescale_lt; lra.
  - rewrite Rmult_assoc; apply Rmult_le_compat_l; assumption.
Qed.

Lemma dot_supported_below n k c v :
  (k <= n)%nat -> (forall j, (k <= j)%nat -> v j = 0) -> dot n c v = dot k c v.
Proof.
  induction n as [|n IH]; intros Hk Hv; [replace k with 0%nat by lia; reflexivity|].
  destruct (Nat.eq_dec k (S n)) as [->|Hne]; [reflexivity|].
  rewrite dot_S, Hv by lia; rewrite IH by (auto; lia); ring.
Qed.

(* f1 and f2 differ by o(|v - w|): same derivatives at w *)
Lemma differentiable_at_close_iff W f1 f2 w G :
  small_o W (fun h => f1 (vadd w h) - f2 (vadd w h)) ->
  differentiable_at W f1 w G <-> differentiable_at W f2 w G.
Proof.
  intros H.
  assert (H0 := small_o_at_zero W _ H); cbv beta in H0; rewrite vadd_vzero_r in H0.
  split; intros Hd.
  - apply (so_ext W (fun h => (f1 (vadd w h) - f1 w - dot W G h) - (f1 (vadd w h) - f2 (vadd w h))));
      [intros; cbv beta; lra | apply small_o_minus; assumption].
  - apply (so_ext W (fun h => (f2 (vadd w h) - f2 w - dot W G h) + (f1 (vadd w h) - f2 (vadd w h))));
      [intros; cbv beta; lra | apply small_o_plus; assumption].
Qed.

Lemma differentiable_close_iff W f1 f2 w :
  small_o W (fun h => f1 (vadd w h) - f2 (vadd w h)) ->
  differentiable W f1 w <-> differentiable W f2 w.
Proof.
  intros H; split; intros [G Hd]; exists G; [apply (differentiable_at_close_iff W f1 f2 w G H) |
    apply (differentiable_at_close_iff W f1 f2 w G H)]; exact Hd.
Qed.

(** * Activations near a point: the one-sided linearisation *)

Section OneSidedLin.
Variables (a : activation) (y0 : R).

Definition act_lin (y : R) : R :=
  act_eval a y0 + (if Rle_dec y y0 then slope_left a y0 else slope_right a y0) * (y - y0).

Definition act_lin_const : R := Rabs (slope_left a y0) + Rabs (slope_right a y0).

Lemma act_lin_lipschitz y y' : Rabs (act_lin y - act_lin y') <= act_lin_const * Rabs (y - y').
Proof.
  unfold act_lin, act_lin_const.
  set (sl := slope_left a y0); set (sr := slope_right a y0).
  pose proof (Rabs_pos sl); pose proof (Rabs_pos sr).
  destruct (Rle_dec y y0), (Rle_dec y' y0).
  - replace (act_eval a y0 + sl * (y - y0) - (act_eval a y0 + sl * (y' - y0))) with (sl * (y - y')) by ring.
    rewrite Rabs_mult; apply Rmult_le_compat_r; [apply Rabs_pos | lra].
  - replace (act_eval a y0 + sl * (y - y0) - (act_eval a y0 + sr * (y' - y0)))
      with (sl * (y - y0) - sr * (y' - y0)) by ring.
    eapply Rle_trans; [apply Rabs_triang|]; rewrite Rabs_Ropp, !Rabs_mult.
    rewrite (Rabs_left1 (y - y0)), (Rabs_pos_eq (y' - y0)), (Rabs_left1 (y - y')) by lra; nra.
  - replace (act_eval a y0 + sr * (y - y0) - (act_eval a y0 + sl * (y' - y0)))
      with (sr * (y - y0) - sl * (y' - y0)) by ring.
    eapply Rle_trans; [apply Rabs_triang|]; rewrite Rabs_Ropp, !Rabs_mult.
    rewrite (Rabs_pos_eq (y - y0)), (Rabs_left1 (y' - y0)), (Rabs_pos_eq (y - y')) by lra; nra.
  - replace (act_eval a y0 + sr * (y - y0) - (act_eval a y0 + sr * (y' - y0))) with (sr * (y - y')) by ring.
    rewrite Rabs_mult; apply Rmult_le_compat_r; [apply Rabs_pos | lra].
Qed.

Lemma act_lin_at : act_lin y0 = act_eval a y0.
Proof. unfold act_lin; destruct (Rle_dec y0 y0); ring. Qed.

Lemma act_lin_estimate :
  forall eps, 0 < eps -> exists d, 0 < d /\ forall k, Rabs k < d ->
    Rabs (act_eval a (y0 + k) - act_lin (y0 + k)) <= eps * Rabs k.
Proof.
  intros eps Heps.
  destruct (act_eval_left_pieces a y0) as [d1 [Hd1 H1]].
  destruct (act_eval_right_pieces a y0) as [d2 [Hd2 H2]].
  destruct (derivable_pt_lim_estimate (piece a (left_piece a y0)) y0 _
              (proj1 (is_derive_Reals _ _ _) (piece_derive a (left_piece a y0) y0)) eps Heps)
    as [d3 [Hd3 K3]].
  destruct (derivable_pt_lim_estimate (piece a (right_piece a y0)) y0 _
              (proj1 (is_derive_Reals _ _ _) (piece_derive a (right_piece a y0) y0)) eps Heps)
    as [d4 [Hd4 K4]].
  exists (Rmin (Rmin d1 d2) (Rmin d3 d4)); split; [repeat apply Rmin_glb_lt; lra|].
  intros k Hk.
  generalize (Rmin_l (Rmin d1 d2) (Rmin d3 d4)) (Rmin_r (Rmin d1 d2) (Rmin d3 d4))
    (Rmin_l d1 d2) (Rmin_r d1 d2) (Rmin_l d3 d4) (Rmin_r d3 d4); intros.
  assert (Hk' := Hk); apply Rabs_def2 in Hk'.
  unfold act_lin; destruct (Rle_dec (y0 + k) y0).
  - rewrite H1 by lra; rewrite <- (left_piece_at a y0).
    replace (y0 + k - y0) with k by ring; unfold slope_left.
    replace (piece a (left_piece a y0) (y0 + k) - (piece a (left_piece a y0) y0 + dpiece a (left_piece a y0) y0 * k))
      with (piece a (left_piece a y0) (y0 + k) - piece a (left_piece a y0) y0 - dpiece a (left_piece a y0) y0 * k) by ring.
    apply K3; lra.
  - destruct (Req_dec k 0) as [->|Hk0]; [lra|].
    rewrite H2 by lra; rewrite <- (right_piece_at a y0).
    replace (y0 + k - y0) with k by ring; unfold slope_right.
    replace (piece a (right_piece a y0) (y0 + k) - (piece a (right_piece a y0) y0 + dpiece a (right_piece a y0) y0 * k))
      with (piece a (right_piece a y0) (y0 + k) - piece a (right_piece a y0) y0 - dpiece a (right_piece a y0) y0 * k) by ring.
    apply K4; lra.
Qed.

(* sigma (Y1 h) - sigma (Y2 h) is o(|h|) when Y1 - Y2 is and Y1 is calm at y0 *)
Lemma act_close W (Y1 Y2 : vec -> R) :
  small_o W (fun h => Y1 h - Y2 h) -> bounded_by_norm W (fun h => Y1 h - y0) ->
  small_o W (fun h => act_eval a (Y1 h) - act_eval a (Y2 h)) /\
  bounded_by_norm W (fun h => act_eval a (Y1 h) - act_eval a y0).
Proof.
  intros Hs Hb.
  assert (Hb2 : bounded_by_norm W (fun h => Y2 h - y0)).
  { apply (bounded_ext W (fun h => (Y1 h - y0) - (Y1 h - Y2 h))); [intros; ring|].
    apply bounded_minus; [exact Hb | apply small_o_bounded, Hs]. }
  set (r := fun k => act_eval a (y0 + k) - act_lin (y0 + k)).
  assert (HL : forall Y, bounded_by_norm W (fun h => Y h - y0) ->
             small_o W (fun h => act_eval a (Y h) - act_lin (Y h))).
  { intros Y HY; apply (so_ext W (fun h => r (Y h - y0))).
    - intros h; unfold r; replace (y0 + (Y h - y0)) with (Y h) by ring; reflexivity.
    - apply small_o_comp_R; [exact act_lin_estimate | exact HY]. }
  pose proof (Rabs_pos (slope_left a y0)); pose proof (Rabs_pos (slope_right a y0)).
  assert (HM : 0 <= act_lin_const) by (unfold act_lin_const; lra).
  split.
  - apply (so_ext W (fun h => ((act_eval a (Y1 h) - act_lin (Y1 h)) - (act_eval a (Y2 h) - act_lin (Y2 h)))
                                   + (act_lin (Y1 h) - act_lin (Y2 h)))); [intros; ring|].
    apply small_o_plus; [apply small_o_minus; apply HL; assumption|].
    apply (small_o_le W _ _ act_lin_const Hs HM); intros h; apply act_lin_lipschitz.
  - apply (bounded_ext W (fun h => (act_eval a (Y1 h) - act_lin (Y1 h)) + (act_lin (Y1 h) - act_lin y0)));
      [intros; rewrite act_lin_at; ring|].
    apply bounded_plus; [apply small_o_bounded, HL, Hb|].
    apply (bounded_le W _ _ act_lin_const Hb HM); intros h; apply act_lin_lipschitz.
Qed.

End OneSidedLin.

Lemma dot_minus_r n c x y : dot n c (fun j => x j - y j) = dot n c x - dot n c y.
Proof. induction n as [|n IH]; [rewrite !dot_0; ring | rewrite !dot_S, IH; ring]. Qed.

(** * The smooth network is its linearisation up to o(|v - w|) *)

Section Close.
Variables (sn : st_network) (w0 : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Local Notation P := (lin_net sn w0).

Lemma P_size : n_size P = N.
Proof. apply lin_net_size. Qed.

Lemma st_point_vadd k h :
  st_point sn (vadd w0 h) k =
  vadd (st_point sn w0 k) (pack W h (fun j => st_zvals sn (vadd w0 h) k j - st_zvals sn w0 k j)).
Proof.
  unfold st_point; rewrite vadd_pack; f_equal.
  apply functional_extensionality; intros j; unfold vadd; ring.
Qed.

Lemma lin_preact k v : (k < N)%nat ->
  preact P v k = lin_const sn w0 k + dot W (st_dw sn w0 k) v + dot k (st_dz sn w0 k) (zvals P v k).
Proof. intros Hk; unfold preact; rewrite (lin_tau_nth sn w0 k Hk); apply eval_lin_tau. Qed.

(* z_j of the two networks differ by o(|h|), and z_j is calm at w0 *)
Definition close_post (j : nat) : Prop :=
  small_o W (fun h => st_post sn (vadd w0 h) j - post P (vadd w0 h) j) /\
  bounded_by_norm W (fun h => st_post sn (vadd w0 h) j - st_post sn w0 j).

Lemma close_post_at j : close_post j -> post P w0 j = st_post sn w0 j.
Proof.
  intros [H _]; apply small_o_at_zero in H; cbv beta in H; rewrite vadd_vzero_r in H; lra.
Qed.

(* the increments of z_<k are calm, as a vector *)
Lemma dz_calm k : (k <= N)%nat -> (forall j, (j < k)%nat -> close_post j) ->
  exists C d, 0 <= C /\ 0 < d /\ forall h, supported W h -> norm_max W h < d ->
    supported (W + N) (pack W h (fun j => st_zvals sn (vadd w0 h) k j - st_zvals sn w0 k j)) /\
    norm_max (W + N) (pack W h (fun j => st_zvals sn (vadd w0 h) k j - st_zvals sn w0 k j))
      <= (1 + C) * norm_max W h.
Proof.
  intros HkN IH.
  destruct (calm_vector W N (fun j h => st_zvals sn (vadd w0 h) k j - st_zvals sn w0 k j))
    as [C [d [HC [Hd K]]]].
  { intros j Hj; destruct (lt_dec j k) as [Hjk|Hjk].
    - apply (bounded_ext W (fun h => st_post sn (vadd w0 h) j - st_post sn w0 j));
        [intros h; rewrite !st_zvals_lt by exact Hjk; reflexivity | apply IH, Hjk].
    - apply (bounded_ext W (fun _ => 0)); [intros h; rewrite !st_zvals_ge by lia; ring|].
      apply bounded_zero. }
  exists C, d; split; [exact HC|]; split; [exact Hd|]; intros h Hs Hn; split.
  - apply supported_pack; [exact Hs|]; intros j Hj; cbv beta.
    rewrite !st_zvals_ge by lia; ring.
  - eapply Rle_trans; [apply norm_max_pack|].
    specialize (K h Hs Hn); rewrite Rmult_plus_distr_r, Rmult_1_l; lra.
Qed.

Lemma preact_close k : (k < N)%nat -> (forall j, (j < k)%nat -> close_post j) ->
  small_o W (fun h => st_preact sn (vadd w0 h) k - preact P (vadd w0 h) k) /\
  bounded_by_norm W (fun h => st_preact sn (vadd w0 h) k - st_preact sn w0 k).
Proof.
  intros Hk IH.
  set (tk := st_tau sn k); set (u := st_point sn w0 k).
  set (dz := fun h j => st_zvals sn (vadd w0 h) k j - st_zvals sn w0 k j).
  set (a := fun h => pack W h (dz h)).
  set (E := fun v => c1_g tk (vadd u v) - c1_g tk u - dot (W + N) (c1_dg tk u) v).
  assert (HE : small_o (W + N) E) by exact (c1_diff _ _ tk u).
  destruct (dz_calm k ltac:(lia) IH) as [C [d [HC [Hd K]]]].
  assert (Hy : forall h, st_preact sn (vadd w0 h) k = c1_g tk u + dot (W + N) (c1_dg tk u) (a h) + E (a h)).
  { intros h; unfold st_preact; rewrite st_point_vadd; unfold E, a, dz; fold tk u; ring. }
  assert (HEa : small_o W (fun h => E (a h))) by
    (apply (small_o_comp_vec W (W + N) E a (1 + C) d HE ltac:(lra) Hd K)).
  split.
  - apply (so_ext W (fun h => E (a h) +
             dot k (st_dz sn w0 k) (fun j => st_zvals sn (vadd w0 h) k j - zvals P (vadd w0 h) k j))).
    + intros h; rewrite Hy, lin_preact by exact Hk.
      unfold a; rewrite dot_pack_r.
      rewrite (dot_supported_below N k) by (try lia; intros j Hj; unfold dz; rewrite !st_zvals_ge by lia; ring).
      unfold lin_const, dz; rewrite !dot_minus_r, dot_vadd_r.
      change (dot W (st_dw sn w0 k) h) with (dot W (c1_dg tk u) h).
      change (dot W (st_dw sn w0 k) w0) with (dot W (c1_dg tk u) w0).
      change (st_preact sn w0 k) with (c1_g tk u).
      change (dot k (fun j => c1_dg tk u (W + j)%nat) (st_zvals sn (vadd w0 h) k))
        with (dot k (st_dz sn w0 k) (st_zvals sn (vadd w0 h) k)).
      change (dot k (fun j => c1_dg tk u (W + j)%nat) (st_zvals sn w0 k))
        with (dot k (st_dz sn w0 k) (st_zvals sn w0 k)).
      ring.
    + apply small_o_plus; [exact HEa|]; apply small_o_dot; intros j Hj.
      apply (so_ext W (fun h => st_post sn (vadd w0 h) j - post P (vadd w0 h) j));
        [intros h; rewrite st_zvals_lt, zvals_lt by exact Hj; reflexivity | apply IH, Hj].
  - apply (bounded_ext W (fun h => dot (W + N) (c1_dg tk u) (a h) + E (a h)));
      [intros h; rewrite Hy; fold tk u; unfold st_preact; fold tk u; ring|].
    apply bounded_plus; [|apply small_o_bounded, HEa].
    apply (bounded_comp_vec W (W + N) _ a (1 + C) d (dot_bounded _ _) ltac:(lra) Hd K).
Qed.

Theorem st_lin_post_close (n : nat) : (n <= N)%nat -> forall j, (j < n)%nat -> close_post j.
Proof.
  induction n as [|n IH]; intros Hn j Hj; [lia|].
  destruct (Nat.eq_dec j n) as [->|Hne]; [|apply IH; lia].
  destruct (preact_close n ltac:(lia) (fun j Hj => IH ltac:(lia) j Hj)) as [Hs Hb].
  unfold close_post, st_post, post; rewrite (lin_sigma_nth sn w0 n ltac:(lia)).
  exact (act_close (st_sigma sn n) (st_preact sn w0 n) W _ _ Hs Hb).
Qed.

Corollary st_close_post j : (j < N)%nat -> close_post j.
Proof. intros Hj; apply (st_lin_post_close N (le_n N) j Hj). Qed.

Lemma lin_preact_at k : (k < N)%nat -> preact P w0 k = st_preact sn w0 k.
Proof.
  intros Hk; destruct (preact_close k Hk (fun j Hj => st_close_post j ltac:(lia))) as [H _].
  apply small_o_at_zero in H; cbv beta in H; rewrite vadd_vzero_r in H; lra.
Qed.

Lemma lin_zvec_ge v j : (N <= j)%nat -> zvec P v j = 0.
Proof. intros Hj; unfold zvec; apply zvals_ge; rewrite P_size; exact Hj. Qed.

Lemma lin_zvec_lt v j : (j < N)%nat -> zvec P v j = post P v j.
Proof. intros Hj; apply zvec_lt; rewrite P_size; exact Hj. Qed.

Lemma lin_zvec_at : zvec P w0 = st_zvec sn w0.
Proof.
  apply functional_extensionality; intros j; unfold st_zvec; destruct (lt_dec j N) as [Hj|Hj].
  - rewrite lin_zvec_lt, st_zvals_lt by exact Hj; apply close_post_at, st_close_post, Hj.
  - rewrite lin_zvec_ge, st_zvals_ge by lia; reflexivity.
Qed.

Lemma lin_kink_neurons : kink_neurons P w0 = st_kink_neurons sn w0.
Proof.
  unfold kink_neurons, st_kink_neurons; rewrite P_size; apply filter_ext_in.
  intros k Hk; apply in_seq in Hk.
  rewrite lin_preact_at, lin_sigma_nth by lia; reflexivity.
Qed.

Lemma c1_eval_lin_c1 v : c1_eval (lin_c1 sn w0) v = c1_g (st_out sn) (pack W v (zvec P v)).
Proof. reflexivity. Qed.

(* the output increments of either network are calm, as a vector *)
Lemma out_calm (Z : vec -> vec) :
  (forall j, (j < N)%nat -> bounded_by_norm W (fun h => Z h j - st_zvec sn w0 j)) ->
  (forall h j, (N <= j)%nat -> Z h j = 0) ->
  exists C d, 0 <= C /\ 0 < d /\ forall h, supported W h -> norm_max W h < d ->
    supported (W + N) (pack W h (fun j => Z h j - st_zvec sn w0 j)) /\
    norm_max (W + N) (pack W h (fun j => Z h j - st_zvec sn w0 j)) <= (1 + C) * norm_max W h.
Proof.
  intros Hb HZ.
  destruct (calm_vector W N (fun j h => Z h j - st_zvec sn w0 j) Hb) as [C [d [HC [Hd K]]]].
  exists C, d; split; [exact HC|]; split; [exact Hd|]; intros h Hs Hn; split.
  - apply supported_pack; [exact Hs|]; intros j Hj; cbv beta.
    rewrite HZ by lia; unfold st_zvec; rewrite st_zvals_ge by lia; ring.
  - eapply Rle_trans; [apply norm_max_pack|].
    specialize (K h Hs Hn); rewrite Rmult_plus_distr_r, Rmult_1_l; lra.
Qed.

Theorem st_eval_close :
  small_o W (fun h => st_eval sn (vadd w0 h) - c1_eval (lin_c1 sn w0) (vadd w0 h)).
Proof.
  set (g := st_out sn); set (u0 := pack W w0 (st_zvec sn w0)).
  set (E := fun v => c1_g g (vadd u0 v) - c1_g g u0 - dot (W + N) (c1_dg g u0) v).
  assert (HE : small_o (W + N) E) by exact (c1_diff _ _ g u0).
  set (aS := fun h => pack W h (fun j => st_zvec sn (vadd w0 h) j - st_zvec sn w0 j)).
  set (aP := fun h => pack W h (fun j => zvec P (vadd w0 h) j - st_zvec sn w0 j)).
  assert (HbS : forall j, (j < N)%nat -> bounded_by_norm W (fun h => st_zvec sn (vadd w0 h) j - st_zvec sn w0 j)).
  { intros j Hj; apply (bounded_ext W (fun h => st_post sn (vadd w0 h) j - st_post sn w0 j));
      [intros h; unfold st_zvec; rewrite !st_zvals_lt by exact Hj; reflexivity | apply st_close_post, Hj]. }
  assert (HsP : forall j, (j < N)%nat -> small_o W (fun h => st_zvec sn (vadd w0 h) j - zvec P (vadd w0 h) j)).
  { intros j Hj; apply (so_ext W (fun h => st_post sn (vadd w0 h) j - post P (vadd w0 h) j));
      [intros h; unfold st_zvec; rewrite st_zvals_lt, lin_zvec_lt by exact Hj; reflexivity | apply st_close_post, Hj]. }
  destruct (out_calm (fun h => st_zvec sn (vadd w0 h)) HbS) as [CS [dS [HCS [HdS KS]]]].
  { intros h j Hj; unfold st_zvec; apply st_zvals_ge; exact Hj. }
  destruct (out_calm (fun h => zvec P (vadd w0 h))) as [CP [dP [HCP [HdP KP]]]].
  { intros j Hj; apply (bounded_ext W (fun h => (st_zvec sn (vadd w0 h) j - st_zvec sn w0 j) -
                                              (st_zvec sn (vadd w0 h) j - zvec P (vadd w0 h) j)));
      [intros; ring | apply bounded_minus; [apply HbS, Hj | apply small_o_bounded, HsP, Hj]]. }
  { intros h j Hj; apply lin_zvec_ge, Hj. }
  assert (HES : small_o W (fun h => E (aS h))) by
    (apply (small_o_comp_vec W (W + N) E aS (1 + CS) dS HE ltac:(lra) HdS KS)).
  assert (HEP : small_o W (fun h => E (aP h))) by
    (apply (small_o_comp_vec W (W + N) E aP (1 + CP) dP HE ltac:(lra) HdP KP)).
  apply (so_ext W (fun h => (E (aS h) - E (aP h)) +
           dot N (fun j => c1_dg g u0 (W + j)%nat)
             (fun j => st_zvec sn (vadd w0 h) j - zvec P (vadd w0 h) j))).
  - intros h; rewrite c1_eval_lin_c1; unfold E, aS, aP, st_eval; fold g.
    rewrite !dot_pack_r, !dot_minus_r.
    replace (pack W (vadd w0 h) (st_zvec sn (vadd w0 h)))
      with (vadd u0 (pack W h (fun j => st_zvec sn (vadd w0 h) j - st_zvec sn w0 j))).
    2:{ unfold u0; rewrite vadd_pack; f_equal; apply functional_extensionality; intros j; unfold vadd; ring. }
    replace (pack W (vadd w0 h) (zvec P (vadd w0 h)))
      with (vadd u0 (pack W h (fun j => zvec P (vadd w0 h) j - st_zvec sn w0 j))).
    2:{ unfold u0; rewrite vadd_pack; f_equal; apply functional_extensionality; intros j; unfold vadd; ring. }
    ring.
  - apply small_o_plus; [apply small_o_minus; assumption|]; apply small_o_dot; exact HsP.
Qed.

(* f is differentiable at w0 with gradient G iff the C1 network lin_c1 is *)
Theorem st_differentiable_at_iff G :
  differentiable_at W (st_eval sn) w0 G <-> differentiable_at W (c1_eval (lin_c1 sn w0)) w0 G.
Proof. apply differentiable_at_close_iff, st_eval_close. Qed.

Theorem st_differentiable_iff :
  differentiable W (st_eval sn) w0 <-> differentiable W (c1_eval (lin_c1 sn w0)) w0.
Proof. apply differentiable_close_iff, st_eval_close. Qed.

Lemma st_NS_iff D : st_NS sn D w0 <-> NS_c1 (lin_c1 sn w0) D w0.
Proof.
  unfold st_NS, NS_c1, st_zbar; change (cn_net (lin_c1 sn w0)) with P.
  rewrite lin_kink_neurons; reflexivity.
Qed.

End Close.

(** * The defining equations of AD for smooth pre-activations *)

(* dg/dw_p and dg/dz_k at (w, z(w)) *)
Definition st_dgw (sn : st_network) (w : vec) (p : nat) : R :=
  c1_dg (st_out sn) (pack (st_W sn) w (st_zvec sn w)) p.
Definition st_dgz (sn : st_network) (w : vec) (k : nat) : R :=
  c1_dg (st_out sn) (pack (st_W sn) w (st_zvec sn w)) (st_W sn + k)%nat.

Lemma eval_dparam_lin_params x v z a n p :
  eval x v z (dparam p (lin_params a n)) = if lt_dec p n then a p else 0.
Proof.
  induction n as [|n IH]; simpl; [destruct (lt_dec p 0); [lia | reflexivity]|].
  rewrite IH; destruct (Req_EM_T (a n) 0) as [Ha|Ha]; simpl;
    destruct (lt_dec p n), (lt_dec p (S n)), (Nat.eq_dec n p); subst; try lia; try rewrite Ha; ring.
Qed.

Section Equations.
Variables (sn : st_network) (D : nat -> R) (w : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).

Lemma eval_dneuron_lin_tau x v z j k :
  (k < j)%nat -> eval x v z (dneuron k (lin_tau sn w j)) = st_dz sn w j k.
Proof.
  intros Hkj; unfold lin_tau; simpl.
  rewrite dneuron_not_occurs by apply lin_params_no_neuron.
  rewrite eval_dneuron_lin_out by exact Hkj; ring.
Qed.

Lemma eval_dparam_lin_tau x v z k p :
  (p < W)%nat -> eval x v z (dparam p (lin_tau sn w k)) = st_dw sn w k p.
Proof.
  intros Hp; unfold lin_tau; simpl; rewrite eval_dparam_lin_params, eval_dparam_lin_out.
  destruct (lt_dec p W); [ring | lia].
Qed.

Lemma lin_c1_point : c1_point (lin_c1 sn w) w = pack W w (st_zvec sn w).
Proof.
  unfold c1_point; change (zvec (cn_net (lin_c1 sn w)) w) with (zvec (lin_net sn w) w).
  rewrite lin_zvec_at; reflexivity.
Qed.

Lemma st_ad_eq (p : nat) : (p < W)%nat ->
  st_ad sn D w p = st_dgw sn w p + sum_list (map (fun j => st_ybar sn D w j * st_dw sn w j p) (seq 0 N)).
Proof.
  intros Hp; unfold st_ad; rewrite ad_c1_eq; f_equal.
  - unfold dgw, st_dgw; rewrite lin_c1_point; reflexivity.
  - change (n_size (cn_net (lin_c1 sn w))) with (n_size (lin_net sn w)); rewrite lin_net_size.
    f_equal; apply map_ext_in; intros j Hj; apply in_seq in Hj.
    change (tau (cn_net (lin_c1 sn w)) j) with (tau (lin_net sn w) j).
    rewrite lin_tau_nth by lia; rewrite eval_dparam_lin_tau by exact Hp; reflexivity.
Qed.

(* zbar_k = dg/dz_k + sum_(j>k) ybar_j dtau_j/dz_k;  ybar_k = zbar_k D sigma_k(y_k);
   AD_D f(w)_p = dg/dw_p + sum_k ybar_k dtau_k/dw_p, all at (w, z(w)) *)
Theorem st_ad_equations (k p : nat) : (k < N)%nat ->
  st_zbar sn D w k = st_dgz sn w k +
    sum_list (map (fun j => st_ybar sn D w j * st_dz sn w j k) (seq (S k) (N - S k))) /\
  st_ybar sn D w k = st_zbar sn D w k * act_deriv_choice (st_sigma sn k) (D k) (st_preact sn w k) /\
  ((p < W)%nat -> st_ad sn D w p = st_dgw sn w p +
    sum_list (map (fun j => st_ybar sn D w j * st_dw sn w j p) (seq 0 N))).
Proof.
  intros Hk.
  assert (HkP : (k < n_size (cn_net (lin_c1 sn w)))%nat)
    by (change (k < n_size (lin_net sn w))%nat; rewrite lin_net_size; exact Hk).
  split; [|split].
  - unfold st_zbar; rewrite (zbar_c1_eq _ D w k HkP); f_equal.
    + unfold dgz, st_dgz; rewrite lin_c1_point; reflexivity.
    + change (n_size (cn_net (lin_c1 sn w))) with (n_size (lin_net sn w)); rewrite lin_net_size.
      f_equal; apply map_ext_in; intros j Hj; apply in_seq in Hj.
      change (tau (cn_net (lin_c1 sn w)) j) with (tau (lin_net sn w) j).
      rewrite lin_tau_nth by lia; rewrite eval_dneuron_lin_tau by lia; reflexivity.
  - unfold st_ybar, st_zbar; rewrite (ybar_c1_eq _ D w k HkP); unfold dchoice.
    change (cn_net (lin_c1 sn w)) with (lin_net sn w).
    rewrite lin_sigma_nth, lin_preact_at by exact Hk; reflexivity.
  - apply st_ad_eq.
Qed.

End Equations.
