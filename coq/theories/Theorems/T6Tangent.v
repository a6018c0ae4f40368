(* The corrected T6 on tangent networks (THEORY.md section 8.1; issue 10,
   item 8; the lead's analysis in notes/t6.md, here with a simpler proof).
   A batched tangent network: every neuron c is a copy of a base neuron
   base c; copies only read copies of lower base neurons; the direction
   coordinate bias u enters every copy of u with coefficient 1 and no other
   copy.  Choices are theta-uniform: x_c = sl_c + theta_(base c) (sr_c - sl_c).
   Theorem: if the tangent network phi (activations hat) is linear with
   gradient G, so is the network with the linear activations x (AD).
   Proof by induction on the topmost base neuron m with a kinked copy; U the
   copies of m, b = bias m, Lam the linear map from values injected at U to
   the output (the part above U is linear).
   - Moving v_b by t moves every copy in U by t and nothing below U.  For
     t -> -oo all of U is on the left pieces, for t -> +oo on the right ones.
     Linearity of phi along these rays gives: the network with U on its left
     slopes is linear with gradient G, and Lam(Delta y_U(v)) = 0 for all v,
     i.e. the network psi with output sum_(c in U) zeta_c Delta_c y_c is
     linear with gradient 0.  Both have fewer kinked base neurons.
   - AD with x: x_c = sl_c + theta_m Delta_c on U, so
     AD(v) = AD_left(v) + theta_m Lam(Delta y_U^x(v)) = G . v + theta_m psi_x(v)
     and psi_x = 0 by induction.
   The proofs are TangentClasses.v's (shared with T7Tangent.v): a batched
   tangent network is ordered and every class has a bias (batched_ordered,
   batched_class_bias); the theorem itself is the tied one
   (T7Tangent.tied_tangent_T7 with batched_tnet_tied). *)

From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Network AD Tangent.
From ADCorrect Require Export TangentClasses.
From ADCorrect Require Import T7Tangent.
Import ListNotations.
Open Scope R_scope.

Section BatchedTangent.
Variables (base bias : nat -> nat) (theta : nat -> R).

Local Notation batched_tnet := (TangentClasses.batched_tnet base bias).
Local Notation theta_slopes := (TangentClasses.theta_slopes base theta).
Local Notation left_tnet := (TangentClasses.left_tnet base).
Local Notation injF := (TangentClasses.injF base).
Local Notation Lam := (TangentClasses.Lam base).
Local Notation zeta := (TangentClasses.zeta base).
Local Notation kappa := (TangentClasses.kappa base).
Local Notation psi_tnet := (TangentClasses.psi_tnet base).

(** * A batched tangent network is ordered, with a bias for every class *)

Lemma batched_ordered (T : tnet) : batched_tnet T -> ordered_tnet base T.
Proof. intros (H0 & _ & _ & HB); split; assumption. Qed.

Lemma batched_class_bias (T : tnet) (c0 : nat) : batched_tnet T -> (c0 < t_N T)%nat ->
  class_bias_tnet base T (base c0) (bias (base c0)).
Proof. intros (_ & HA & HW & _) Hc0; split; [apply HW, Hc0 | intros c Hc; apply HA; assumption]. Qed.

(** * Lemmas on one batched tangent network *)

Section Step.
Variables (T : tnet) (m : nat).
Hypothesis HT : batched_tnet T.
Local Notation W := (t_W T).
Local Notation N := (t_N T).

Lemma HB0 c j : (c < N)%nat -> (c <= j)%nat -> t_B T c j = 0.
Proof. apply (proj1 HT). Qed.
Lemma HA c c' : (c < N)%nat -> (c' < N)%nat ->
  t_A T c (bias (base c')) = if Nat.eq_dec (base c) (base c') then 1 else 0.
Proof. apply (proj1 (proj2 HT)). Qed.
Lemma HW c : (c < N)%nat -> (bias (base c) < W)%nat.
Proof. apply (proj1 (proj2 (proj2 HT))). Qed.
Lemma HBase c j : (j < c)%nat -> (c < N)%nat -> t_B T c j <> 0 -> (base j < base c)%nat.
Proof. apply (proj2 (proj2 (proj2 HT))). Qed.

(* the tangent of y_c only reads neurons of lower base *)
Lemma ty_lower_sum (F F' : nat -> R -> R) (v v' : vec) (c : nat) :
  (c < N)%nat -> (forall i, (i < c)%nat -> (base i < base c)%nat -> tz T F v i = tz T F' v' i) ->
  sumn c (fun i => tz T F v i * t_B T c i) = sumn c (fun i => tz T F' v' i * t_B T c i).
Proof. exact (ty_lower_sum_cls base T (batched_ordered T HT) F F' v v' c). Qed.

(* F and F' agree below m: same values below m, same tangents up to m *)
Lemma lower_agree (F F' : nat -> R -> R) (v : vec) :
  (forall c t, (c < N)%nat -> (base c < m)%nat -> F c t = F' c t) ->
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F v c = tz T F' v c) /\
    ((base c <= m)%nat -> ty T F v c = ty T F' v c).
Proof. exact (lower_agree_cls base T m (batched_ordered T HT) F F' v). Qed.

Section Bias.
Variable c0 : nat.
Hypothesis Hc0 : (c0 < N)%nat.
Hypothesis Hm : base c0 = m.
Let b := bias m.

Lemma class_bias_m : class_bias_tnet base T m b.
Proof. unfold b; rewrite <- Hm; apply batched_class_bias; assumption. Qed.

Lemma b_lt : (b < W)%nat.
Proof. exact (proj1 class_bias_m). Qed.

Lemma A_b (c : nat) : (c < N)%nat -> t_A T c b = if Nat.eq_dec (base c) m then 1 else 0.
Proof. apply (proj2 class_bias_m). Qed.

(* moving v_b by t: nothing below m moves, every copy of m moves by t *)
Lemma bias_move (F : nat -> R -> R) (v : vec) (t : R) :
  forall c, (c < N)%nat ->
    ((base c < m)%nat -> tz T F (vadd v (vscale t (unit_vec b))) c = tz T F v c) /\
    ((base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec b))) c =
                          ty T F v c + (if Nat.eq_dec (base c) m then t else 0)).
Proof. exact (bias_move_cls base T m (batched_ordered T HT) b class_bias_m F v t). Qed.

(* superposition: what is injected at U enters the output through Lam *)
Lemma superposition_nodes (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
  (forall c t', (c < N)%nat -> (m < base c)%nat -> F c t' = t_sl T c * t') ->
  forall c, (c < N)%nat ->
    tz T (injF F m xi) (vadd v (vscale t (unit_vec b))) c - tz T (injF F m xi') v c =
    tz T (injF (fun c t => t_sl T c * t) m (fun c => xi c - xi' c)) vzero c.
Proof. exact (superposition_nodes_cls base T m (batched_ordered T HT) b class_bias_m F xi xi' v t). Qed.

Lemma superposition (F : nat -> R -> R) (xi xi' : nat -> R) (v : vec) (t : R) :
  (forall c t', (c < N)%nat -> (m < base c)%nat -> F c t' = t_sl T c * t') ->
  tout T (injF F m xi) (vadd v (vscale t (unit_vec b))) - tout T (injF F m xi') v =
  t * t_d T b + Lam T m (fun c => xi c - xi' c).
Proof. exact (superposition_cls base T m (batched_ordered T HT) b class_bias_m F xi xi' v t). Qed.

End Bias.

(** * Lam is linear in the injected values *)

Lemma Lam_sub (xi xi' : nat -> R) (c0 : nat) : (c0 < N)%nat -> base c0 = m ->
  Lam T m xi - Lam T m xi' = Lam T m (fun c => xi c - xi' c).
Proof.
  intros Hc0 Hm; exact (Lam_sub_cls base T m (batched_ordered T HT) _ xi xi' (class_bias_m c0 Hc0 Hm)).
Qed.

Lemma Lam_add (xi xi' : nat -> R) (c0 : nat) : (c0 < N)%nat -> base c0 = m ->
  Lam T m (fun c => xi c + xi' c) = Lam T m xi + Lam T m xi'.
Proof.
  intros Hc0 Hm; exact (Lam_add_cls base T m (batched_ordered T HT) _ xi xi' (class_bias_m c0 Hc0 Hm)).
Qed.

(* Lam xi = sum over the copies c of m of xi_c zeta_c *)
Lemma Lam_sum (xi : nat -> R) (c0 : nat) : (c0 < N)%nat -> base c0 = m ->
  Lam T m xi = sumn N (fun c => if Nat.eq_dec (base c) m then xi c * zeta T m c else 0).
Proof.
  intros Hc0 Hm; exact (Lam_sum_cls base T m (batched_ordered T HT) _ xi (class_bias_m c0 Hc0 Hm)).
Qed.

(* an output that weighs the tangents y_c by kap_c *)
Lemma tout_weights (kap : nat -> R) (F : nat -> R -> R) (v : vec) :
  sumn W (fun p => v p * sumn N (fun c => kap c * t_A T c p)) +
  sumn N (fun j => tz T F v j * sumn N (fun c => kap c * t_B T c j)) =
  sumn N (fun c => kap c * ty T F v c).
Proof. exact (tout_weights_cls base T (batched_ordered T HT) kap F v). Qed.

(* the output of psi: sum_c kappa_c y_c *)
Lemma psi_tout (F : nat -> R -> R) (v : vec) :
  tout (psi_tnet T m) F v = sumn N (fun c => kappa T m c * ty T F v c).
Proof. exact (psi_tout_cls base T m (batched_ordered T HT) F v). Qed.

End Step.

(** * The induction *)

Lemma left_tnet_batched T m : batched_tnet T -> batched_tnet (left_tnet T m).
Proof. intros H; exact H. Qed.

Lemma psi_tnet_batched T m : batched_tnet T -> batched_tnet (psi_tnet T m).
Proof. intros H; exact H. Qed.

(** * The topmost kinked base neuron *)

Section Topmost.
Variables (T : tnet) (m c0 : nat).
Hypothesis HT : batched_tnet T.
Hypothesis Hc0 : (c0 < t_N T)%nat.
Hypothesis Hm : base c0 = m.
(* no copy above m is kinked *)
Hypothesis Hup : forall c, (c < t_N T)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c.
Local Notation N := (t_N T).
Local Notation W := (t_W T).
Local Notation TL := (left_tnet T m).
Local Notation FL := (hat (left_tnet T m)).
Local Notation b := (bias m).

Let HO := batched_ordered T HT.
Let Hcb := class_bias_m T m HT c0 Hc0 Hm.

Lemma b_lt' : (b < W)%nat.
Proof. exact (b_lt T m HT c0 Hc0 Hm). Qed.

(* phi = phi with the copies of m on their left slopes + sum_c kappa_c max(y_c, 0) *)
Lemma tangent_split (v : vec) :
  tout T (hat T) v = tout T FL v + sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0).
Proof. exact (tangent_split_cls base T m c0 b HO Hcb Hc0 Hup v). Qed.

(* if phi is linear, so is the left network, and Lam (Delta y) = 0 *)
Lemma topmost_facts (G : vec) : tlinear T (hat T) G -> forall v, supported W v ->
  tout T FL v = dot W G v /\
  Lam T m (fun c => (t_sr T c - t_sl T c) * ty T (hat T) v c) = 0.
Proof. exact (topmost_facts_cls base T m c0 b HO Hcb Hc0 Hup G). Qed.

(* the exact recursive condition: phi is linear with gradient G iff the left
   network is, and the kinks of the copies of m cancel in every direction *)
Theorem topmost_linear_iff (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> sumn N (fun c => kappa T m c * Rmax (ty T (hat T) v c) 0) = 0).
Proof. exact (topmost_linear_iff_cls base T m c0 b HO Hcb Hc0 Hup G). Qed.

(* the same with the kinks grouped by the value of their tangent *)
Theorem topmost_linear_iff_groups (G : vec) :
  tlinear T (hat T) G <->
  tlinear TL (hat TL) G /\
  (forall v, supported W v -> forall tau,
     sumn N (fun c => if Req_EM_T (ty T (hat T) v c) tau then kappa T m c else 0) = 0).
Proof. exact (topmost_linear_iff_groups_cls base T m c0 b HO Hcb Hc0 Hup G). Qed.

End Topmost.

Theorem batched_tangent_T6_below (m : nat) :
  forall T G, batched_tnet T ->
    (forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c < m)%nat) ->
    tlinear T (hat T) G -> tlinear T (lin (theta_slopes T)) G.
Proof.
  intros T G HT; apply (tied_tangent_T7_below base bias theta m T G), batched_tnet_tied, HT.
Qed.

(* the corrected T6 for batched tangent networks *)
Theorem batched_tangent_T6 (T : tnet) (G : vec) :
  batched_tnet T -> tlinear T (hat T) G -> tlinear T (lin (theta_slopes T)) G.
Proof. intros HT; apply (tied_tangent_T7 base bias theta T G), batched_tnet_tied, HT. Qed.

End BatchedTangent.
