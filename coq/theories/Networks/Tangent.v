(* The tangent network at w (THEORY.md section 7: phi_w(v), the one-sided
   directional derivative computed by forward mode with side-aware slopes).
   A tangent network is a network in the direction v whose pre-activations
   are linear in v and in the earlier neurons' tangents, and whose
   activations are piecewise linear with one kink at 0:
   hat(t) = sigma'_-(y) t for t < 0 and sigma'_+(y) t for t >= 0.
   - tnet_of net w: the tangent network of a network at w (coefficients the
     symbolic derivatives at w, slopes the one-sided slopes at y_k(w)).
   - Expansion (the multivariate form of "phi_w is the directional
     derivative"): f(w + h) = f(w) + phi_w(h) + o(|h|) uniformly in h
     (net_expands).  phi_w is positively homogeneous; hence f is
     differentiable at w with gradient G iff phi_w(h) = G . h for all h
     (tangent_linear_iff_differentiable).
   - With linear activations t -> x_k t the tangent network is forward mode
     AD with slopes x; with x = the choice slopes, coordinate p of its
     gradient is AD_D f(w)_p (ad_tout). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation ActDiff Network AD NoKinkAD.
Import ListNotations.
Open Scope R_scope.

(** * Tangent networks *)

Record tnet := mk_tnet {
  t_W : nat;                      (* parameters (directions) *)
  t_N : nat;                      (* neurons *)
  t_A : nat -> nat -> R;          (* t_A c p: coefficient of v_p in y_c *)
  t_B : nat -> nat -> R;          (* t_B c j: coefficient of z_j in y_c, j < c *)
  t_d : nat -> R;                 (* output: coefficient of v_p *)
  t_g : nat -> R;                 (* output: coefficient of z_j *)
  t_sl : nat -> R;                (* slope for y_c < 0 *)
  t_sr : nat -> R                 (* slope for y_c >= 0 *)
}.

Section Forward.
Variables (T : tnet) (F : nat -> R -> R).

(* z_0 .. z_(n-1) with the activations F c *)
Fixpoint tzs (v : vec) (n : nat) : nat -> R :=
  match n with
  | O => fun _ => 0
  | S m => let zd := tzs v m in
      fun j => if Nat.eq_dec j m
               then F m (sumn (t_W T) (fun p => v p * t_A T m p) + sumn m (fun i => zd i * t_B T m i))
               else zd j
  end.

Definition tz (v : vec) (j : nat) : R := tzs v (t_N T) j.
Definition ty (v : vec) (c : nat) : R :=
  sumn (t_W T) (fun p => v p * t_A T c p) + sumn c (fun i => tz v i * t_B T c i).
Definition tout (v : vec) : R :=
  sumn (t_W T) (fun p => v p * t_d T p) + sumn (t_N T) (fun j => tz v j * t_g T j).

Lemma tzs_lt (v : vec) (n j : nat) : (j < n)%nat -> tzs v n j = tzs v (S j) j.
Proof.
  induction n as [|m IH]; intros Hj; [lia|].
  destruct (Nat.eq_dec j m) as [->|Hne]; [reflexivity|].
  simpl; destruct (Nat.eq_dec j m); [lia|]; apply IH; lia.
Qed.

Lemma tz_eq (v : vec) (c : nat) : (c < t_N T)%nat -> tz v c = F c (ty v c).
Proof.
  intros Hc; unfold tz, ty; rewrite tzs_lt by exact Hc; simpl.
  destruct (Nat.eq_dec c c) as [_|]; [|congruence]; f_equal; f_equal.
  apply sumn_ext; intros i Hi; unfold tz; rewrite (tzs_lt v c), (tzs_lt v (t_N T)) by lia; reflexivity.
Qed.

End Forward.

(* the side-aware activation with slopes sl (t < 0) and sr (t >= 0) *)
Definition hat2 (sl sr t : R) : R := if Rlt_dec t 0 then sl * t else sr * t.
Definition hat (T : tnet) (c : nat) (t : R) : R := hat2 (t_sl T c) (t_sr T c) t.
(* linear activations t -> x_c t (forward mode AD with slopes x) *)
Definition lin (x : nat -> R) (c : nat) (t : R) : R := x c * t.

Lemma tzs_ext (T : tnet) (F F' : nat -> R -> R) (v : vec) (n : nat) :
  (forall c t, (c < n)%nat -> F c t = F' c t) -> forall j, tzs T F v n j = tzs T F' v n j.
Proof.
  induction n as [|m IH]; intros H j; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j m); [|apply IH; intros; apply H; lia].
  rewrite H by lia; f_equal; f_equal; apply sumn_ext; intros i _; rewrite IH; [reflexivity|].
  intros; apply H; lia.
Qed.

Lemma tout_ext (T : tnet) (F F' : nat -> R -> R) (v : vec) :
  (forall c t, (c < t_N T)%nat -> F c t = F' c t) -> tout T F v = tout T F' v.
Proof.
  intros H; unfold tout, tz; f_equal; apply sumn_ext; intros j _; rewrite (tzs_ext T F F' v _ H); reflexivity.
Qed.

(** * The tangent network of a network at w *)

Definition tnet_of (net : network) (w : vec) : tnet := {|
  t_W := n_params net;
  t_N := n_size net;
  t_A := dw_coef net w;
  t_B := dz_coef net w;
  t_d := fun p => eval (n_input net) w (zvec net w) (dparam p (n_out net));
  t_g := fun j => eval (n_input net) w (zvec net w) (dneuron j (n_out net));
  t_sl := fun c => slope_left (sigma net c) (preact net w c);
  t_sr := fun c => slope_right (sigma net c) (preact net w c) |}.

(** * Linear activations: forward-mode AD *)

Lemma tzs_lin_zdots (net : network) (w : vec) (x : nat -> R) (v : vec) (n : nat) :
  tzs (tnet_of net w) (lin x) v n = zdots net x w v n.
Proof.
  induction n as [|m IH]; [reflexivity|]; simpl; rewrite IH; reflexivity.
Qed.

Lemma tout_lin_fdot (net : network) (w : vec) (x : nat -> R) (v : vec) :
  tout (tnet_of net w) (lin x) v = fdot net x w v.
Proof.
  unfold tout, fdot, tz, zdot; cbn [t_W t_N t_d t_g tnet_of].
  rewrite tzs_lin_zdots; reflexivity.
Qed.

Lemma tout_lin_dot (net : network) (w : vec) (x : nat -> R) (v : vec) :
  wf net -> tout (tnet_of net w) (lin x) v = dot (n_params net) (grad_sl net x w) v.
Proof. intros Hwf; rewrite tout_lin_fdot; apply forward_reverse, Hwf. Qed.

(* AD_D f(w)_p is the tangent network with the choice slopes, along e_p *)
Theorem ad_tout (net : network) (D : nat -> R) (w : vec) (p : nat) :
  wf net -> (p < n_params net)%nat ->
  ad net D w p = tout (tnet_of net w) (lin (dchoice net D w)) (unit_vec p).
Proof. intros Hwf Hp; rewrite tout_lin_fdot, forward_reverse_unit by assumption; reflexivity. Qed.

(** * The side-aware activation *)

Lemma hat2_bound (sl sr t : R) : Rabs (hat2 sl sr t) <= (Rabs sl + Rabs sr) * Rabs t.
Proof.
  unfold hat2; destruct (Rlt_dec t 0); rewrite Rabs_mult;
    pose proof (Rabs_pos sl); pose proof (Rabs_pos sr); pose proof (Rabs_pos t); nra.
Qed.

Lemma hat2_lipschitz (sl sr a b : R) :
  Rabs (hat2 sl sr a - hat2 sl sr b) <= (Rabs sl + Rabs sr) * Rabs (a - b).
Proof.
  pose proof (Rabs_pos sl); pose proof (Rabs_pos sr).
  unfold hat2; destruct (Rlt_dec a 0), (Rlt_dec b 0).
  - replace (sl * a - sl * b) with (sl * (a - b)) by ring; rewrite Rabs_mult.
    pose proof (Rabs_pos (a - b)); nra.
  - (* a < 0 <= b: |a|, |b| <= |a - b| *)
    eapply Rle_trans; [apply Rabs_triang|]; rewrite Rabs_Ropp, !Rabs_mult.
    assert (Rabs a <= Rabs (a - b)) by (rewrite (Rabs_left1 a), (Rabs_left1 (a - b)) by lra; lra).
    assert (Rabs b <= Rabs (a - b)) by (rewrite (Rabs_pos_eq b), (Rabs_left1 (a - b)) by lra; lra).
    pose proof (Rabs_pos a); pose proof (Rabs_pos b); nra.
  - eapply Rle_trans; [apply Rabs_triang|]; rewrite Rabs_Ropp, !Rabs_mult.
    assert (Rabs a <= Rabs (a - b)) by (rewrite (Rabs_pos_eq a), (Rabs_pos_eq (a - b)) by lra; lra).
    assert (Rabs b <= Rabs (a - b)) by (rewrite (Rabs_left1 b), (Rabs_pos_eq (a - b)) by lra; lra).
    pose proof (Rabs_pos a); pose proof (Rabs_pos b); nra.
  - replace (sr * a - sr * b) with (sr * (a - b)) by ring; rewrite Rabs_mult.
    pose proof (Rabs_pos (a - b)); nra.
Qed.

Lemma hat2_homogeneous (sl sr k t : R) : 0 < k -> hat2 sl sr (k * t) = k * hat2 sl sr t.
Proof.
  intros Hk; unfold hat2; destruct (Rlt_dec (k * t) 0), (Rlt_dec t 0); try ring; exfalso; nra.
Qed.

Lemma hat2_same (s t : R) : hat2 s s t = s * t.
Proof. unfold hat2; destruct (Rlt_dec t 0); reflexivity. Qed.

(* sigma(y + k) = sigma(y) + hat(k) + o(k) *)
Lemma act_side_expansion (a : activation) (y : R) :
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall k, Rabs k < delta ->
    Rabs (act_eval a (y + k) - act_eval a y - hat2 (slope_left a y) (slope_right a y) k) <= eps * Rabs k.
Proof.
  intros eps Heps.
  destruct (act_eval_left_pieces a y) as [d1 [Hd1 H1]].
  destruct (act_eval_right_pieces a y) as [d2 [Hd2 H2]].
  destruct (derivable_pt_lim_estimate _ _ _ (piece_derivable a (left_piece a y) y) eps Heps) as [d3 [Hd3 K3]].
  destruct (derivable_pt_lim_estimate _ _ _ (piece_derivable a (right_piece a y) y) eps Heps) as [d4 [Hd4 K4]].
  exists (Rmin (Rmin d1 d2) (Rmin d3 d4)); split; [repeat apply Rmin_glb_lt; assumption|].
  intros k Hk.
  generalize (Rmin_l (Rmin d1 d2) (Rmin d3 d4)) (Rmin_r (Rmin d1 d2) (Rmin d3 d4))
    (Rmin_l d1 d2) (Rmin_r d1 d2) (Rmin_l d3 d4) (Rmin_r d3 d4); intros.
  pose proof (Rabs_def2 _ _ Hk) as [Hk1 Hk2].
  unfold hat2; destruct (Rlt_dec k 0) as [Hn|Hn].
  - rewrite H1 by lra; rewrite <- (left_piece_at a y).
    specialize (K3 k ltac:(lra)); unfold slope_left; exact K3.
  - destruct (Req_dec k 0) as [->|Hne].
    + rewrite Rplus_0_r, Rmult_0_r, Rabs_R0; replace (act_eval a y - act_eval a y - 0) with 0 by ring.
      rewrite Rabs_R0; lra.
    + rewrite H2 by lra; rewrite <- (right_piece_at a y).
      specialize (K4 k ltac:(lra)); unfold slope_right; exact K4.
Qed.

(** * First-order expansions with a positively homogeneous part *)

(* f(w + h) = f(w) + phi(h) + o(|h|), |phi(h)| = O(|h|) *)
Definition expands (W : nat) (f : vec -> R) (w : vec) (phi : vec -> R) : Prop :=
  small_o W (fun h => f (vadd w h) - f w - phi h) /\ bounded_by_norm W phi.

Lemma bounded_scal W k a : bounded_by_norm W a -> bounded_by_norm W (fun h => k * a h).
Proof.
  intros [C [d [HC [Hd K]]]]; exists (Rabs k * C), d; repeat split; auto.
  - pose proof (Rabs_pos k); nra.
  - intros h Hs Hn; rewrite Rabs_mult, Rmult_assoc; apply Rmult_le_compat_l; [apply Rabs_pos | auto].
Qed.

Lemma bounded_le W a b L : 0 <= L -> bounded_by_norm W b -> (forall h, Rabs (a h) <= L * Rabs (b h)) ->
  bounded_by_norm W a.
Proof.
  intros HL [C [d [HC [Hd K]]]] Hab; exists (L * C), d; repeat split; auto; [nra|].
  intros h Hs Hn; eapply Rle_trans; [apply Hab|]; rewrite Rmult_assoc; apply Rmult_le_compat_l; auto.
Qed.

Lemma small_o_le W a e L : 0 <= L -> small_o W e -> (forall h, Rabs (a h) <= L * Rabs (e h)) -> small_o W a.
Proof.
  intros HL He Hae eps Heps.
  destruct (He (eps / (L + 1))) as [d [Hd K]]; [apply Rdiv_lt_0_compat; lra|].
  exists d; split; [exact Hd|]; intros h Hs Hn; specialize (K h Hs Hn).
  pose proof (norm_max_nonneg W h).
  eapply Rle_trans; [apply Hae|].
  eapply Rle_trans; [apply Rmult_le_compat_l; [exact HL | exact K]|].
  replace (L * (eps / (L + 1) * norm_max W h)) with (eps / (L + 1) * (norm_max W h * L)) by ring.
  apply rescale_le; lra.
Qed.

Lemma expands_ext W f f' w phi phi' :
  (forall v, f' v = f v) -> (forall h, phi' h = phi h) -> expands W f w phi -> expands W f' w phi'.
Proof.
  intros Hf Hp [Ho Hb]; split.
  - apply (small_o_ext W (fun h => f (vadd w h) - f w - phi h)); [intros h _; rewrite !Hf, Hp; reflexivity | exact Ho].
  - destruct Hb as [C [d [HC [Hd K]]]]; exists C, d; repeat split; auto; intros h Hs Hn; rewrite Hp; auto.
Qed.

Lemma expands_increment_bounded W f w phi :
  expands W f w phi -> bounded_by_norm W (fun h => f (vadd w h) - f w).
Proof.
  intros [Ho Hb]; destruct (bounded_plus W _ _ (small_o_bounded W _ Ho) Hb) as [C [d [HC [Hd K]]]].
  exists C, d; repeat split; auto; intros h Hs Hn; specialize (K h Hs Hn); cbv beta in K.
  replace (f (vadd w h) - f w - phi h + phi h) with (f (vadd w h) - f w) in K by ring; exact K.
Qed.

Lemma expands_const W c w : expands W (fun _ => c) w (fun _ => 0).
Proof.
  split.
  - apply (small_o_ext W (fun _ => 0)); [intros; ring | apply small_o_zero].
  - exists 0, 1; repeat split; try lra; intros h _ _; rewrite Rabs_R0; pose proof (norm_max_nonneg W h); nra.
Qed.

Lemma expands_coord W p w : (p < W)%nat -> expands W (fun v => v p) w (fun h => h p).
Proof.
  intros Hp; split.
  - apply (small_o_ext W (fun _ => 0)); [intros; unfold vadd; ring | apply small_o_zero].
  - exists 1, 1; repeat split; try lra; intros h _ _; rewrite Rmult_1_l; apply norm_max_coord, Hp.
Qed.

Lemma expands_plus W f g w phf phg :
  expands W f w phf -> expands W g w phg -> expands W (fun v => f v + g v) w (fun h => phf h + phg h).
Proof.
  intros [Hf Bf] [Hg Bg]; split; [|apply bounded_plus; assumption].
  eapply small_o_ext; [|exact (small_o_plus W _ _ Hf Hg)]; intros h _; cbv beta; ring.
Qed.

Lemma expands_mult W f g w phf phg :
  expands W f w phf -> expands W g w phg ->
  expands W (fun v => f v * g v) w (fun h => f w * phg h + g w * phf h).
Proof.
  intros Ef Eg; pose proof (expands_increment_bounded W f w phf Ef) as Df.
  pose proof (expands_increment_bounded W g w phg Eg) as Dg.
  destruct Ef as [Hf Bf]; destruct Eg as [Hg Bg]; split.
  - assert (H := small_o_plus W _ _ (small_o_plus W _ _ (small_o_scal W (g w) _ Hf) (small_o_scal W (f w) _ Hg))
                   (small_o_bounded_vanishes W _ _ Df (bounded_vanishes W _ Dg))).
    eapply small_o_ext; [|exact H]; intros h _; cbv beta; ring.
  - apply bounded_plus; apply bounded_scal; assumption.
Qed.

Lemma expands_act W (a : activation) f w phi :
  expands W f w phi ->
  expands W (fun v => act_eval a (f v)) w (fun h => hat2 (slope_left a (f w)) (slope_right a (f w)) (phi h)).
Proof.
  intros Ef; pose proof (expands_increment_bounded W f w phi Ef) as Df; destruct Ef as [Hf Bf].
  set (sl := slope_left a (f w)); set (sr := slope_right a (f w)).
  set (r := fun k => act_eval a (f w + k) - act_eval a (f w) - hat2 sl sr k).
  assert (Hr := small_o_comp_R W r _ (act_side_expansion a (f w)) Df).
  assert (Hl : small_o W (fun h => hat2 sl sr (f (vadd w h) - f w) - hat2 sl sr (phi h))).
  { apply (small_o_le W _ (fun h => f (vadd w h) - f w - phi h) (Rabs sl + Rabs sr)); [pose proof (Rabs_pos sl); pose proof (Rabs_pos sr); lra | exact Hf|].
    intros h; eapply Rle_trans; [apply hat2_lipschitz|]; right; f_equal; f_equal; ring. }
  split.
  - eapply small_o_ext; [|exact (small_o_plus W _ _ Hr Hl)]; intros h _; unfold r; cbv beta.
    replace (f w + (f (vadd w h) - f w)) with (f (vadd w h)) by ring; ring.
  - apply (bounded_le W _ phi (Rabs sl + Rabs sr)); [pose proof (Rabs_pos sl); pose proof (Rabs_pos sr); lra | exact Bf|].
    intros h; apply hat2_bound.
Qed.

(** * Expressions *)

Lemma sumn_indicator_l (n q : nat) (f : nat -> R) :
  (q < n)%nat -> sumn n (fun p => f p * (if Nat.eq_dec q p then 1 else 0)) = f q.
Proof.
  intros Hq; rewrite <- (sum_list_map_indicator (seq 0 n) q f (seq_NoDup _ _)) by (apply in_seq; lia).
  apply sumn_ext; intros i _; ring.
Qed.

Lemma sumn_mul_zero (n : nat) (f : nat -> R) : sumn n (fun p => f p * 0) = 0.
Proof. rewrite (sumn_ext n _ (fun _ => 0 * 0)) by (intros; ring); rewrite sumn_scal; ring. Qed.

Lemma sum_list_mul_zero (l : list nat) (f : nat -> R) : sum_list (map (fun p => f p * 0) l) = 0.
Proof. apply sum_list_map_zero; intros; ring. Qed.

Section ExprExpansion.
Variables (W : nat) (x : nat -> R) (Z : vec -> nat -> R) (w : vec) (Phi : nat -> vec -> R) (l : list nat).
Hypothesis Hl : NoDup l.

Definition expr_tangent (e : expr) (h : vec) : R :=
  sumn W (fun p => h p * eval x w (Z w) (dparam p e)) +
  sum_list (map (fun j => Phi j h * eval x w (Z w) (dneuron j e)) l).

Lemma eval_expands (e : expr) :
  params_below W e -> (forall j, occurs_neuron j e -> In j l) ->
  (forall j, occurs_neuron j e -> expands W (fun v => Z v j) w (Phi j)) ->
  expands W (fun v => eval x v (Z v) e) w (expr_tangent e).
Proof.
  unfold params_below, expr_tangent;
    induction e as [r|q|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; simpl; intros Hp Hin Hz.
  - eapply expands_ext; [intros; reflexivity| |apply expands_const].
    intros h; rewrite sumn_mul_zero, sum_list_mul_zero; ring.
  - eapply expands_ext; [intros; reflexivity| |apply expands_coord, Hp; reflexivity].
    intros h; rewrite sum_list_mul_zero, Rplus_0_r.
    apply sumn_indicator_l, Hp; reflexivity.
  - eapply expands_ext; [intros; reflexivity| |apply expands_const].
    intros h; rewrite sumn_mul_zero, sum_list_mul_zero; ring.
  - eapply expands_ext; [intros; reflexivity| |apply Hz; reflexivity].
    intros h; rewrite sumn_mul_zero, Rplus_0_l.
    rewrite (sum_list_map_ext _ (fun i => (if Nat.eq_dec j i then 1 else 0) * Phi i h))
      by (intros i _; destruct (Nat.eq_dec i j), (Nat.eq_dec j i); subst; try congruence; ring).
    apply sum_list_map_indicator; [exact Hl | apply Hin; reflexivity].
  - eapply expands_ext; [intros; reflexivity| |apply expands_plus; [apply IH1 | apply IH2]; auto].
    intros h; rewrite (sumn_ext W _ (fun p => h p * eval x w (Z w) (dparam p e1) + h p * eval x w (Z w) (dparam p e2)))
      by (intros; ring).
    rewrite sumn_plus, (sum_list_map_ext _ (fun j => (eval x w (Z w) (dneuron j e1) + eval x w (Z w) (dneuron j e2)) * Phi j h))
      by (intros; ring).
    rewrite sum_list_map_plus_mul.
    rewrite (sum_list_map_ext (fun j => eval x w (Z w) (dneuron j e1) * Phi j h) (fun j => Phi j h * eval x w (Z w) (dneuron j e1)))
      by (intros; ring).
    rewrite (sum_list_map_ext (fun j => eval x w (Z w) (dneuron j e2) * Phi j h) (fun j => Phi j h * eval x w (Z w) (dneuron j e2)))
      by (intros; ring).
    ring.
  - eapply expands_ext; [intros; reflexivity| |apply expands_mult; [apply IH1 | apply IH2]; auto].
    intros h; set (a1 := eval x w (Z w) e1); set (a2 := eval x w (Z w) e2).
    rewrite (sumn_ext W _ (fun p => a2 * (h p * eval x w (Z w) (dparam p e1)) + a1 * (h p * eval x w (Z w) (dparam p e2))))
      by (intros; unfold a1, a2; ring).
    rewrite sumn_plus, !sumn_scal.
    rewrite (sum_list_map_ext _ (fun j => (eval x w (Z w) (dneuron j e1) * a2 + a1 * eval x w (Z w) (dneuron j e2)) * Phi j h))
      by (intros; unfold a1, a2; ring).
    rewrite sum_list_map_prod_rule.
    rewrite (sum_list_map_ext (fun j => eval x w (Z w) (dneuron j e1) * Phi j h) (fun j => Phi j h * eval x w (Z w) (dneuron j e1)))
      by (intros; ring).
    rewrite (sum_list_map_ext (fun j => eval x w (Z w) (dneuron j e2) * Phi j h) (fun j => Phi j h * eval x w (Z w) (dneuron j e2)))
      by (intros; ring).
    ring.
Qed.

End ExprExpansion.

(** * The network *)

Section NetExpansion.
Variables (net : network) (w : vec).
Hypothesis Hwf : wf net.
Let W := n_params net.
Let N := n_size net.
Let T := tnet_of net w.

(* the tangent of y_c, summed over all neurons *)
Lemma ty_full (h : vec) (c : nat) : (c < N)%nat ->
  ty T (hat T) h c =
  sumn W (fun p => h p * dw_coef net w c p) + sumn N (fun j => tz T (hat T) h j * dz_coef net w c j).
Proof.
  intros Hc; unfold ty; f_equal.
  symmetry; apply sumn_zero_above; [lia|]; intros j Hj; change (t_B T c j) with (dz_coef net w c j); rewrite dz_coef_above by (exact Hwf || lia); ring.
Qed.

Lemma post_expands (c : nat) : (c < N)%nat ->
  expands W (fun v => post net v c) w (fun h => tz T (hat T) h c).
Proof.
  induction c as [c IH] using lt_wf_ind; intros Hc.
  destruct (proj1 Hwf c Hc) as [Hnb Hpb].
  assert (Hy : expands W (fun v => preact net v c) w (fun h => ty T (hat T) h c)).
  { eapply expands_ext; [intros v; apply preact_zvec; assumption| |].
    2:{ apply (eval_expands W (n_input net) (zvec net) w (fun j h => tz T (hat T) h j) (seq 0 N) (seq_NoDup _ _)
                 (tau net c) Hpb).
        - intros j Hj; apply in_seq; specialize (Hnb j Hj); lia.
        - intros j Hj; specialize (Hnb j Hj).
          apply (expands_ext W (fun v => post net v j) _ w (fun h => tz T (hat T) h j) _); [intros v; apply zvec_lt; lia | intros; reflexivity|].
          apply IH; lia. }
    intros h; rewrite ty_full by exact Hc; unfold expr_tangent.
    f_equal; unfold sumn; apply sum_list_map_ext; intros; reflexivity. }
  apply (expands_ext W (fun v => act_eval (sigma net c) (preact net v c)) _ w
           (fun h => hat2 (slope_left (sigma net c) (preact net w c)) (slope_right (sigma net c) (preact net w c))
                       (ty T (hat T) h c))); [intros; reflexivity| |apply expands_act, Hy].
  intros h; rewrite tz_eq by exact Hc; reflexivity.
Qed.

(* f(w + h) = f(w) + phi_w(h) + o(|h|) *)
Theorem net_expands : expands W (net_eval net) w (tout T (hat T)).
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  eapply expands_ext; [intros; reflexivity| |].
  2:{ apply (eval_expands W (n_input net) (zvec net) w (fun j h => tz T (hat T) h j) (seq 0 N) (seq_NoDup _ _)
               (n_out net) Hpb).
      - intros j Hj; apply in_seq; specialize (Hnb j Hj); lia.
      - intros j Hj; specialize (Hnb j Hj).
        apply (expands_ext W (fun v => post net v j) _ w (fun h => tz T (hat T) h j) _); [intros v; apply zvec_lt; lia | intros; reflexivity|].
        apply post_expands; lia. }
  intros h; unfold tout, expr_tangent; f_equal; unfold sumn; apply sum_list_map_ext; intros; reflexivity.
Qed.

(* phi_w is positively homogeneous *)
Lemma tzs_homogeneous (k : R) (h : vec) (n : nat) : 0 < k ->
  forall j, tzs T (hat T) (vscale k h) n j = k * tzs T (hat T) h n j.
Proof.
  intros Hk; induction n as [|m IH]; intros j; simpl; [ring|].
  destruct (Nat.eq_dec j m); [|apply IH].
  match goal with |- hat T m ?a = k * hat T m ?b => transitivity (hat T m (k * b)) end.
  - f_equal; rewrite Rmult_plus_distr_l, <- !sumn_scal; f_equal; apply sumn_ext; intros i _.
    + unfold vscale; ring.
    + rewrite IH; ring.
  - unfold hat; apply hat2_homogeneous, Hk.
Qed.

Lemma tout_homogeneous (k : R) (h : vec) : 0 < k -> tout T (hat T) (vscale k h) = k * tout T (hat T) h.
Proof.
  intros Hk; unfold tout, tz; rewrite Rmult_plus_distr_l, <- !sumn_scal; f_equal; apply sumn_ext; intros i _;
    [unfold vscale | rewrite tzs_homogeneous by exact Hk]; ring.
Qed.

Lemma homogeneous_small_o_zero (q : vec -> R) (h : vec) :
  small_o W q -> supported W h -> (forall k, 0 < k -> q (vscale k h) = k * q h) -> q h = 0.
Proof.
  intros Hq Hs Hhom; apply Rabs_le_all_eps_0; intros eps Heps.
  set (M := norm_max W h); pose proof (norm_max_nonneg W h) as HM; fold M in HM.
  destruct (Hq (eps / (M + 1))) as [d [Hd K]]; [apply Rdiv_lt_0_compat; lra|].
  set (k := d / (M + 1)).
  assert (Hk : 0 < k) by (apply Rdiv_lt_0_compat; lra).
  assert (Hn : norm_max W (vscale k h) < d).
  { rewrite norm_max_vscale, Rabs_pos_eq by lra; fold M; unfold k.
    apply (Rmult_lt_reg_r (M + 1)); [lra|]; field_simplify; [nra | lra]. }
  specialize (K _ (supported_vscale W k h Hs) Hn).
  rewrite (Hhom k Hk), norm_max_vscale, Rabs_mult, (Rabs_pos_eq k) in K by lra; fold M in K.
  replace (eps / (M + 1) * (k * M)) with (k * (eps / (M + 1) * M)) in K by ring.
  assert (Hq' : Rabs (q h) <= eps / (M + 1) * M) by (apply (Rmult_le_reg_l k); [exact Hk | exact K]).
  eapply Rle_trans; [exact Hq'|].
  assert (eps / (M + 1) * M <= eps / (M + 1) * (M + 1)) by (apply Rmult_le_compat_l; [apply Rlt_le, Rdiv_lt_0_compat; lra | lra]).
  replace (eps / (M + 1) * (M + 1)) with eps in H by (field; lra); lra.
Qed.

(* f differentiable at w with gradient g => phi_w(h) = g . h *)
Theorem tangent_linear_of_differentiable (g : vec) :
  differentiable_at W (net_eval net) w g -> forall h, supported W h -> tout T (hat T) h = dot W g h.
Proof.
  intros Hd h Hs.
  assert (Hq : small_o W (fun h => tout T (hat T) h - dot W g h)).
  { eapply small_o_ext; [|exact (small_o_plus W _ _ Hd (small_o_scal W (-1) _ (proj1 net_expands)))].
    intros h' _; cbv beta; ring. }
  apply Rminus_diag_uniq, (homogeneous_small_o_zero (fun h => tout T (hat T) h - dot W g h) h Hq Hs).
  intros k Hk; rewrite tout_homogeneous, dot_vscale_r by exact Hk; ring.
Qed.

(* phi_w(h) = G . h for all h => f differentiable at w with gradient G *)
Theorem differentiable_of_tangent_linear (G : vec) :
  (forall h, supported W h -> tout T (hat T) h = dot W G h) -> differentiable_at W (net_eval net) w G.
Proof.
  intros HG; apply (small_o_ext W (fun h => net_eval net (vadd w h) - net_eval net w - tout T (hat T) h));
    [|exact (proj1 net_expands)].
  intros h Hs; rewrite HG by exact Hs; reflexivity.
Qed.

(* THEORY.md section 7: f is differentiable at w iff v -> phi_w(v) is linear *)
Corollary tangent_linear_iff_differentiable :
  differentiable W (net_eval net) w <-> exists G, forall h, supported W h -> tout T (hat T) h = dot W G h.
Proof.
  split.
  - intros [g Hd]; exists g; now apply tangent_linear_of_differentiable.
  - intros [G HG]; exists G; now apply differentiable_of_tangent_linear.
Qed.

End NetExpansion.
